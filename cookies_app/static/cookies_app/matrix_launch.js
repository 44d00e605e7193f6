// Cookie Lab's cross-site matrix, the other site's side: make each embedded
// kind of request to the lab's probe. The lab records what arrived; this page
// only says that each request was made. Text reaches the page via textContent.

const urls = JSON.parse(document.getElementById("probe-urls").textContent);
// A request that never settles (a stalled iframe) must not hold up the rest.
const SETTLE_MS = 5000;

function settled(promise) {
  const timeout = new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return Promise.race([promise.catch(() => undefined), timeout]);
}

function image(url) {
  return new Promise((resolve) => {
    const img = new Image();
    // The probe answers 204, so the image "fails": the request was made.
    img.addEventListener("load", resolve);
    img.addEventListener("error", resolve);
    img.src = url;
  });
}

function frame(url) {
  return new Promise((resolve) => {
    const iframe = document.createElement("iframe");
    iframe.title = "The lab's probe, framed (the lab refuses to be framed)";
    iframe.addEventListener("load", resolve);
    iframe.src = url;
    document.getElementById("frame-slot").append(iframe);
  });
}

const requests = {
  image,
  fetch: (url) => fetch(url, { credentials: "include", mode: "no-cors" }),
  iframe: frame,
};

function show(kind, text) {
  document.querySelector(`[data-status="${kind}"]`).textContent = text;
}

const runEmbedded = document.getElementById("run-embedded");
runEmbedded.addEventListener("click", async (event) => {
  event.target.disabled = true;
  // First, while the click's user activation lasts: a popup needs it.
  window.open(urls["window-open"], "_blank", "noopener");
  show("window-open", "✔ opened");
  await Promise.all(
    Object.entries(requests).map(async ([kind, make]) => {
      show(kind, "requesting…");
      await settled(make(urls[kind]));
      show(kind, "✔ request made");
    }),
  );
  const status = document.getElementById("embedded-status");
  status.textContent = "Done: now post the form (step 2).";
  status.dataset.done = "true";
});
// Ready: until now a click would have done nothing.
runEmbedded.disabled = false;
