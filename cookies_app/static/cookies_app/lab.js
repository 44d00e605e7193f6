// Cookie Lab: the document.cookie side of the lab, and live findings for both
// forms from the server's rules (/cookies/check), the one source of truth.
// A module: nothing leaks into the global scope. Cookie text reaches the page
// only through textContent.

const { checkUrl } = document.querySelector("script[data-check-url]").dataset;
const CHECK_DELAY_MS = 250;

/** One cookie string for document.cookie, with the value percent-encoded. */
export function cookieString({ name, value, maxAge, expires, path, domain, secure, sameSite, partitioned }) {
  const parts = [`${name}=${encodeURIComponent(value)}`];
  if (maxAge !== "") parts.push(`max-age=${maxAge}`);
  // The datetime-local picker gives the visitor's local time; the string says it in UTC.
  if (expires !== "") parts.push(`expires=${new Date(expires).toUTCString()}`);
  if (path) parts.push(`path=${path}`);
  if (domain) parts.push(`domain=${domain}`);
  if (sameSite) parts.push(`samesite=${sameSite}`);
  if (secure) parts.push("secure");
  if (partitioned) parts.push("partitioned");
  return parts.join("; ");
}

/** document.cookie as [name, value] pairs, in the browser's order. */
export function readCookies() {
  if (!document.cookie) return [];
  return document.cookie.split("; ").map((pair) => {
    const eq = pair.indexOf("=");
    return eq === -1 ? ["", pair] : [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

function jsonFromScript(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : {};
}

const reserved = new Set(jsonFromScript("reserved-names").map((name) => name.toLowerCase()));
// Where each cookie lives: as the server issued it, or as this panel assigned it.
const SCOPES_KEY = "cookie-lab-scopes";
const issuedScopes = jsonFromScript("cookie-scopes");

function scopeOf(name) {
  const assigned = JSON.parse(sessionStorage.getItem(SCOPES_KEY) || "{}");
  return assigned[name] ?? issuedScopes[name] ?? null;
}

function rememberScope(name, path, domain) {
  const assigned = JSON.parse(sessionStorage.getItem(SCOPES_KEY) || "{}");
  assigned[name] = { path, domain };
  sessionStorage.setItem(SCOPES_KEY, JSON.stringify(assigned));
}
const jsForm = document.getElementById("js-form");
const serverForm = document.getElementById("server-form");

/** The JS panel's fields, as the document.cookie helper and the check take them. */
function jsFields() {
  const data = new FormData(jsForm);
  return {
    name: data.get("name"),
    value: data.get("value"),
    maxAge: data.get("max-age"),
    expires: data.get("expires"),
    path: data.get("path"),
    domain: data.get("domain"),
    secure: data.has("secure"),
    sameSite: data.get("samesite"),
    partitioned: data.has("partitioned"),
    sendAnyway: data.has("send_anyway"),
  };
}

function jsCheckParams(fields) {
  const params = {
    source: "script",
    key: fields.name,
    value: encodeURIComponent(fields.value),
    max_age: fields.maxAge,
    // The server reads expires in UTC; the picker gave local time.
    expires: fields.expires === "" ? "" : utcPickerValue(fields.expires),
    path: fields.path,
    domain: fields.domain,
    samesite: fields.sameSite,
  };
  for (const flag of ["secure", "partitioned", "sendAnyway"]) {
    if (fields[flag]) params[flag === "sendAnyway" ? "send_anyway" : flag] = "on";
  }
  return params;
}

/** A datetime-local value (local time) as the same moment in UTC, in the same format. */
function utcPickerValue(local) {
  const moment = new Date(local);
  return Number.isNaN(moment.getTime()) ? local : moment.toISOString().slice(0, 19);
}

function serverCheckParams() {
  const params = new URLSearchParams(new FormData(serverForm));
  params.delete("csrfmiddlewaretoken");
  params.set("source", "server");
  return params;
}

async function check(params) {
  const response = await fetch(`${checkUrl}?${new URLSearchParams(params)}`, {
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(`the check answered ${response.status}`);
  return response.json();
}

function findingItem(finding) {
  const item = document.createElement("li");
  item.className = `finding ${finding.severity}`;
  item.dataset.code = finding.code;
  const label = document.createElement("strong");
  label.textContent = finding.severity;
  const code = document.createElement("code");
  code.textContent = finding.code;
  const spec = document.createElement("span");
  spec.className = "spec";
  spec.textContent = ` (${finding.spec})`;
  item.append(label, " ", code, `: ${finding.message}`, spec);
  if (finding.fix) {
    const fix = document.createElement("span");
    fix.className = "fix";
    fix.textContent = `Fix: ${finding.fix}`;
    item.append(" ", fix);
  }
  if (finding.engines && finding.engines.length) {
    // What each tested engine does with it, as the server's findings say it.
    const engines = document.createElement("span");
    engines.className = "engines";
    engines.textContent = finding.engines.map((n) => n.text).join(" · ");
    item.append(" ", engines);
  }
  return item;
}

function renderFindings(box, result) {
  const list = document.createElement("ul");
  list.className = "findings";
  list.append(...result.findings.filter((f) => f.severity !== "info").map(findingItem));
  // Notes that appear on almost every cookie (SameSiteUnspecified...) fold away.
  const notes = result.findings.filter((f) => f.severity === "info");
  const parts = list.children.length ? [list] : [];
  if (notes.length) {
    const details = document.createElement("details");
    details.className = "notes";
    const summary = document.createElement("summary");
    summary.textContent = `${notes.length} note${notes.length === 1 ? "" : "s"}`;
    const noteList = document.createElement("ul");
    noteList.className = "findings";
    noteList.append(...notes.map(findingItem));
    details.append(summary, noteList);
    parts.push(details);
  }
  box.replaceChildren(...parts);
  box.dataset.verdict = result.verdict ?? "ok";
  box.dataset.blocked = String(result.blocked);
}

function debounce(fn) {
  let timer = 0;
  const run = () => {
    clearTimeout(timer);
    timer = setTimeout(fn, CHECK_DELAY_MS);
  };
  run.cancel = () => clearTimeout(timer);
  return run;
}

function showError(message) {
  const box = document.getElementById("js-error");
  box.textContent = message;
  box.hidden = message === "";
}

function renderList() {
  const list = document.getElementById("js-cookie-list");
  document.getElementById("js-raw").textContent = document.cookie || "(empty)";
  const fallback = document.getElementById("js-path").value || "/";
  const items = readCookies().map(([name, value]) => {
    const item = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = `${name}=${value}`;
    item.append(code);
    if (!reserved.has(name.toLowerCase())) {
      const button = document.createElement("button");
      button.type = "button";
      const scope = scopeOf(name);
      const path = scope ? scope.path || "/" : fallback;
      const domain = scope ? scope.domain : "";
      button.textContent = `Delete (path ${path}${domain ? `, domain ${domain}` : ""})`;
      button.dataset.name = name;
      button.dataset.path = path;
      button.dataset.domain = domain;
      item.append(" ", button);
    }
    return item;
  });
  list.replaceChildren(...items);
}

/** Whether the browser took an assignment, read back from document.cookie. */
function verdictFor(fields) {
  const deleting = (fields.maxAge !== "" && Number(fields.maxAge) <= 0)
    || (fields.expires !== "" && new Date(fields.expires) <= new Date());
  const held = readCookies().find(([name]) => name === fields.name);
  const expected = encodeURIComponent(fields.value);
  if (fields.path && !window.location.pathname.startsWith(fields.path)) {
    return `Assigned for path ${fields.path}: this page's document.cookie cannot see it.`;
  }
  if (deleting) return held ? "The browser did not delete it." : "Deleted: the browser no longer holds it.";
  if (held && held[1] === expected) return "The browser took it: document.cookie shows it.";
  return "The browser did not take it: document.cookie does not show it.";
}

/** The rules' likely reasons, for an assignment the browser refused. */
function reasonsFor(result) {
  return result.findings
    .filter((finding) => finding.severity === "error")
    .map((finding) => `${finding.code}: ${finding.message}`);
}

function assign(cookie) {
  document.cookie = cookie;
  document.getElementById("js-assigned").textContent = cookie;
  renderList();
}

async function onJsSubmit(event) {
  event.preventDefault();
  const fields = jsFields();
  const box = document.getElementById("js-findings");
  jsLiveCheck.cancel(); // a check still waiting to start would see the new cookie
  nextGeneration(box); // live checks in flight are stale now
  let result;
  try {
    result = await check(jsCheckParams(fields));
  } catch (error) {
    showError(`Could not check the cookie: ${error.message}`);
    return;
  }
  renderFindings(box, result);
  nextGeneration(box); // and so are those started meanwhile: they saw the jar before it
  if (result.blocked) {
    showError(Object.values(result.errors).flat().join(" "));
    return;
  }
  showError("");
  rememberScope(fields.name, fields.path || "/", fields.domain);
  assign(cookieString(fields));
  const verdict = verdictFor(fields);
  const reasons = verdict.includes("did not") ? reasonsFor(result) : [];
  const verdictBox = document.getElementById("js-verdict");
  verdictBox.textContent = verdict;
  verdictBox.dataset.taken = String(!verdict.includes("did not"));
  if (reasons.length) {
    const list = document.createElement("ul");
    list.className = "findings";
    for (const reason of reasons) {
      const item = document.createElement("li");
      item.className = "finding error";
      item.textContent = `Likely: ${reason}`;
      list.append(item);
    }
    verdictBox.append(list);
  }
}

function onJsDelete(event) {
  const button = event.target.closest("button[data-name]");
  if (!button) return;
  assign(cookieString({
    name: button.dataset.name, value: "", maxAge: "0", expires: "", path: button.dataset.path,
    domain: button.dataset.domain, secure: false, sameSite: "", partitioned: false,
  }));
}

/** Marks each server-received cookie as visible to JS or hidden (HttpOnly). */
function markServerTable() {
  const visible = new Set(readCookies().map(([name]) => name));
  let hidden = 0;
  for (const row of document.querySelectorAll("#received-table tr[data-cookie-name]")) {
    const cell = row.querySelector(".js-visibility");
    if (visible.has(row.dataset.cookieName)) {
      cell.textContent = "visible";
    } else {
      cell.textContent = "hidden (HttpOnly)";
      cell.classList.add("hidden-from-js");
      hidden += 1;
    }
  }
  const note = document.getElementById("httponly-note");
  if (note) note.hidden = hidden === 0;
}

// A check answers late; only the newest one may draw, and an assignment makes
// every earlier one stale (it would report the cookie just made as a duplicate).
const generations = new Map();

function nextGeneration(box) {
  const generation = (generations.get(box) ?? 0) + 1;
  generations.set(box, generation);
  return generation;
}

function live(form, box, params) {
  const run = debounce(async () => {
    const generation = nextGeneration(box);
    try {
      const result = await check(params());
      if (generations.get(box) === generation) renderFindings(box, result);
    } catch (error) {
      if (generations.get(box) === generation) {
        box.textContent = `Could not check the cookie: ${error.message}`;
      }
    }
  });
  form.addEventListener("input", run);
  form.addEventListener("change", run);
  return run;
}

live(serverForm, document.getElementById("server-findings"), serverCheckParams);
const jsLiveCheck = live(jsForm, document.getElementById("js-findings"), () =>
  jsCheckParams(jsFields()),
);
jsForm.addEventListener("submit", onJsSubmit);
document.getElementById("js-refresh").addEventListener("click", renderList);
document.getElementById("js-cookie-list").addEventListener("click", onJsDelete);
// The Cookie Store API reports changes made by the server too, where supported.
if ("cookieStore" in window) window.cookieStore.addEventListener("change", renderList);
markServerTable();
renderList();
