// Runs axe-core (WCAG 2.1 A/AA and best practices) in headless Chromium against the public
// pages of a running app: the empty form, the form with errors, the confirmation page and
// the status page with its answer form (and a refused answer), in English and in Dari. Exits non-zero on any violation or when a page cannot be checked.
//
//   node axe.mjs http://127.0.0.1:8080
//
// Chromium comes from Debian (`apt-get install chromium`); CHROMIUM overrides its path.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import puppeteer from "puppeteer-core";

const base = (process.argv[2] || "").replace(/\/$/, "");
if (!base) {
  console.error("usage: node axe.mjs BASE_URL");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

async function check(page, label) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(
    (runTags) => window.axe.run(document, { runOnly: { type: "tag", values: runTags } }),
    tags,
  );
  const lang = await page.evaluate(() => `${document.documentElement.lang}/${document.documentElement.dir}`);
  console.log(`axe: ${label} [${lang}]: ${result.passes.length} rules pass, ${result.violations.length} violations`);
  for (const v of result.violations) {
    console.log(`  VIOLATION ${v.id} (${v.impact}): ${v.help}`);
    for (const node of v.nodes.slice(0, 5)) console.log(`    ${node.target.join(" ")}: ${node.failureSummary.replace(/\n/g, " ")}`);
  }
  return result.violations.length;
}

/// Tabs through the page from the top; the summary's first link must be reachable and a
/// visible focus ring must be drawn on each focused element.
async function keyboardReaches(page, selector) {
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press("Tab");
    const state = await page.evaluate((sel) => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return { hit: el.matches(sel), ring: style.outlineStyle !== "none" && style.outlineWidth !== "0px" };
    }, selector);
    if (!state.ring) return `no visible focus at Tab ${i + 1}`;
    if (state.hit) return null;
  }
  return `${selector} not reachable by Tab`;
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
let failures = 0;
try {
  for (const lang of ["en", "fa-AF"]) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const resp = await page.goto(`${base}/?lang=${lang}`, { waitUntil: "load" });
    if (resp.status() !== 200) throw new Error(`GET /?lang=${lang}: ${resp.status()}`);
    failures += await check(page, `form (${lang})`);

    // Sent empty, with the keyboard: the form comes back with errors and a summary.
    await page.focus("button.primary");
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
    if (!(await page.$(".error-summary"))) throw new Error(`no error summary (${lang})`);
    failures += await check(page, `form with errors (${lang})`);
    const problem = await keyboardReaches(page, ".error-summary a");
    if (problem) {
      console.log(`  KEYBOARD (${lang}): ${problem}`);
      failures += 1;
    }

    // A valid request, typed with Persian digits on the Dari page.
    const digits = lang === "fa-AF" ? (s) => s.replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : (s) => s;
    await page.click("#submitter_kind");
    await page.type("#applicant_full_name", lang === "fa-AF" ? "آمنه رحیمی" : "Amina Rahimi");
    await page.type("#applicant_phone", digits("+93 700 123 456"));
    await page.type("#applicant_household_size", digits("4"));
    await page.click("#applicant_location");
    await page.click("#consent");
    await Promise.all([page.waitForNavigation(), page.click("button.primary")]);
    if (!page.url().includes("/submitted/")) throw new Error(`not confirmed (${lang}): ${page.url()}`);
    failures += await check(page, `confirmation (${lang})`);

    // The status page with the confirmation's reference and code: the status, and the form
    // to answer the task force; then the answer sent empty, refused with its reason.
    const reference = await page.$eval("#reference", (el) => el.textContent.trim());
    const code = await page.$eval("#status-code", (el) => el.textContent.trim());
    await page.goto(`${base}/status?lang=${lang}`, { waitUntil: "load" });
    await page.type("#reference", reference);
    await page.type("#code", code);
    await Promise.all([page.waitForNavigation(), page.click("button.primary")]);
    if (!(await page.$("#answer"))) throw new Error(`no answer form on the status page (${lang})`);
    failures += await check(page, `status with the answer form (${lang})`);
    await Promise.all([page.waitForNavigation(), page.click("#send-answer")]);
    if (!(await page.$("#answer-error"))) throw new Error(`an empty answer was not refused (${lang})`);
    failures += await check(page, `status with a refused answer (${lang})`);
    await context.close();
  }
} catch (e) {
  console.error(`axe: could not check the pages: ${e.stack || e}`);
  failures += 1;
} finally {
  await browser.close();
}
if (failures > 0) {
  console.error(`axe: ${failures} problem(s)`);
  process.exit(1);
}
console.log("axe: no violations");
