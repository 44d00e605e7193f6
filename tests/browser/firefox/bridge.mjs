// Firefox for the browser tests: puppeteer-core drives Debian's firefox-esr
// over WebDriver BiDi (no browser download, no geckodriver). pytest starts
// this script (tests/browser/firefox.py) and sends one JSON command a line on
// stdin; each answer is one JSON line on stdout: {"id", "ok", "value"} or
// {"id", "ok": false, "error"}.
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: process.env.FIREFOX_PATH || "/usr/bin/firefox-esr",
  headless: true,
  // No telemetry, updates or remote settings: the machine has no internet.
  extraPrefsFirefox: {
    "app.update.enabled": false,
    "browser.shell.checkDefaultBrowser": false,
    "datareporting.policy.dataSubmissionEnabled": false,
    "network.dns.disableIPv6": false,
  },
});

const contexts = new Map(); // id -> BrowserContext
const pages = new Map(); // id -> Page
const pageErrors = new Map(); // id -> the page's uncaught JavaScript errors
let nextId = 1;

const TIMEOUT = 10_000;

// Clicks and navigations wait for the page that follows to load.
async function navigating(page, action) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: "load", timeout: TIMEOUT }),
    action(),
  ]);
  return { status: response ? response.status() : null, url: page.url() };
}

const commands = {
  async version() {
    return browser.version();
  },
  async newContext() {
    const id = nextId++;
    contexts.set(id, await browser.createBrowserContext());
    return id;
  },
  async closeContext({ context }) {
    await contexts.get(context).close();
    contexts.delete(context);
    return null;
  },
  async newPage({ context }) {
    const page = await contexts.get(context).newPage();
    page.setDefaultTimeout(TIMEOUT);
    const id = nextId++;
    pages.set(id, page);
    pageErrors.set(id, []);
    page.on("pageerror", (error) => pageErrors.get(id).push(String(error)));
    return id;
  },
  async goto({ page, url }) {
    const response = await pages.get(page).goto(url, { waitUntil: "load", timeout: TIMEOUT });
    return { status: response ? response.status() : null, url: pages.get(page).url() };
  },
  async reload({ page }) {
    await pages.get(page).reload({ waitUntil: "load", timeout: TIMEOUT });
    return null;
  },
  async errors({ page }) {
    return pageErrors.get(page);
  },
  async url({ page }) {
    return pages.get(page).url();
  },
  async evaluate({ page, source, arg }) {
    // source is a function's text: (arg) => ...
    return pages.get(page).evaluate(`(${source})(${JSON.stringify(arg ?? null)})`);
  },
  async fill({ page, selector, value }) {
    // As Playwright's fill: focus, set the value (date and time inputs take
    // no typing), then the input and change events a person's typing fires.
    await pages.get(page).$eval(
      selector,
      (el, text) => {
        el.focus();
        el.value = text;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      },
      value,
    );
    return null;
  },
  async select({ page, selector, value }) {
    await pages.get(page).select(selector, value);
    return null;
  },
  async setChecked({ page, selector, checked }) {
    const target = pages.get(page);
    const now = await target.$eval(selector, (el) => el.checked);
    if (now !== checked) await target.click(selector);
    return null;
  },
  async click({ page, selector, navigates }) {
    const target = pages.get(page);
    if (navigates) return navigating(target, () => target.click(selector));
    await target.click(selector);
    return null;
  },
  async waitForSelector({ page, selector }) {
    await pages.get(page).waitForSelector(selector, { timeout: TIMEOUT });
    return null;
  },
  async cookies({ context }) {
    // Every cookie of the context, as the browser holds it (BiDi storage.getCookies).
    return contexts.get(context).cookies();
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, command, args } = JSON.parse(line);
  let answer;
  try {
    answer = { id, ok: true, value: (await commands[command](args || {})) ?? null };
  } catch (error) {
    answer = { id, ok: false, error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await browser.close();
