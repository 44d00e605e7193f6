// Cookie Lab: the document.cookie side of the lab.
// A module: nothing leaks into the global scope. Cookie text reaches the page
// only through textContent.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** One Set-Cookie-like string for document.cookie, with the value encoded. */
export function cookieString({ name, value, maxAge, expires, path, domain, secure, sameSite, partitioned }) {
  const parts = [`${name}=${encodeURIComponent(value)}`];
  if (maxAge !== "") parts.push(`max-age=${maxAge}`);
  if (expires !== "") parts.push(`expires=${new Date(`${expires}Z`).toUTCString()}`);
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
  return element ? JSON.parse(element.textContent) : [];
}

const reserved = new Set(jsonFromScript("reserved-names").map((name) => name.toLowerCase()));

function problemWith(name) {
  if (!TOKEN.test(name)) {
    return "A cookie name must be a token: letters, digits and !#$%&'*+-.^_`|~ only, no spaces, ';' or '='.";
  }
  if (reserved.has(name.toLowerCase())) {
    return `'${name}' is one of this site's own cookies; the lab leaves it alone.`;
  }
  return "";
}

function assign(cookie) {
  document.cookie = cookie;
  document.getElementById("js-assigned").textContent = cookie;
  renderList();
}

function showError(message) {
  const box = document.getElementById("js-error");
  box.textContent = message;
  box.hidden = message === "";
}

function renderList() {
  const list = document.getElementById("js-cookie-list");
  document.getElementById("js-raw").textContent = document.cookie || "(empty)";
  const path = document.getElementById("js-path").value || "/";
  const items = readCookies().map(([name, value]) => {
    const item = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = `${name}=${value}`;
    item.append(code);
    if (!reserved.has(name.toLowerCase())) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Delete (path ${path})`;
      button.dataset.name = name;
      item.append(" ", button);
    }
    return item;
  });
  list.replaceChildren(...items);
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

function onSubmit(event) {
  event.preventDefault();
  const data = new FormData(event.target);
  const name = data.get("name");
  const problem = problemWith(name);
  showError(problem);
  if (problem) return;
  assign(
    cookieString({
      name,
      value: data.get("value"),
      maxAge: data.get("max-age"),
      expires: data.get("expires"),
      path: data.get("path"),
      domain: data.get("domain"),
      secure: data.has("secure"),
      sameSite: data.get("samesite"),
      partitioned: data.has("partitioned"),
    }),
  );
}

function onDelete(event) {
  const button = event.target.closest("button[data-name]");
  if (!button) return;
  const path = document.getElementById("js-path").value || "/";
  assign(cookieString({
    name: button.dataset.name, value: "", maxAge: "0", expires: "", path,
    domain: "", secure: false, sameSite: "", partitioned: false,
  }));
}

document.getElementById("js-form").addEventListener("submit", onSubmit);
document.getElementById("js-refresh").addEventListener("click", renderList);
document.getElementById("js-cookie-list").addEventListener("click", onDelete);
// The Cookie Store API reports changes made by the server too, where supported.
if ("cookieStore" in window) window.cookieStore.addEventListener("change", renderList);
markServerTable();
renderList();
