// The admin dashboard's charts, drawn with Chart.js from the page's JSON
// (json_script). Every bar links to the admin list behind it, as the table
// under each chart does. Colours come from the admin's own CSS variables, so
// the charts follow its light and dark themes, and redraw when they change.
(() => {
  "use strict";
  const source = document.getElementById("dashboard-charts");
  if (!source || typeof window.Chart === "undefined") return;
  const specs = new Map(JSON.parse(source.textContent).map((spec) => [spec.key, spec]));
  const drawn = [];

  function palette() {
    const css = getComputedStyle(document.documentElement);
    const value = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    return {
      text: value("--body-fg", "#333"),
      grid: value("--hairline-color", "#e8e8e8"),
      bar: value("--primary", "#79aec8"),
      edge: value("--link-fg", "#417893"),
    };
  }

  function options(spec, colors) {
    const valueAxis = spec.horizontal ? "x" : "y";
    const labelAxis = spec.horizontal ? "y" : "x";
    return {
      indexAxis: spec.horizontal ? "y" : "x",
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: { label: (item) => `${item.formattedValue} ${spec.unit}` },
        },
      },
      scales: {
        [valueAxis]: {
          beginAtZero: true,
          ticks: { precision: 0, color: colors.text },
          grid: { color: colors.grid },
          title: { display: true, text: spec.unit, color: colors.text },
        },
        [labelAxis]: {
          ticks: { color: colors.text, autoSkip: true },
          grid: { display: false },
        },
      },
      onClick: (event, elements) => {
        if (elements.length) window.location.assign(spec.urls[elements[0].index]);
      },
      onHover: (event, elements) => {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      },
    };
  }

  function draw() {
    while (drawn.length) drawn.pop().destroy();
    const colors = palette();
    for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
      const spec = specs.get(canvas.dataset.chart);
      if (!spec) continue;
      if (spec.horizontal) {
        // A bar per row, whatever the count: CSSOM, which the CSP allows.
        canvas.parentElement.style.height = `${Math.max(3, spec.labels.length) * 1.8 + 3}rem`;
      }
      drawn.push(
        new window.Chart(canvas, {
          type: "bar",
          data: {
            labels: spec.labels,
            datasets: [
              {
                label: spec.unit,
                data: spec.values,
                backgroundColor: colors.bar,
                borderColor: colors.edge,
                borderWidth: 1,
              },
            ],
          },
          options: options(spec, colors),
        }),
      );
    }
  }

  draw();
  // The admin's theme toggle sets data-theme on <html>; "auto" follows the system.
  new MutationObserver(draw).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
})();
