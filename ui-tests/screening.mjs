// Drives the hub's screening page in a real Chromium: screen a name, see the
// hit and its explanation, record a decision, reload, see the decision kept.
// Usage: node screening.mjs BASE_URL TOKEN   (VIGIL_UI_TESTS_DIR: where
// `npm ci` installed playwright-core; VIGIL_CHROMIUM: the browser binary).
// Prints one JSON line with what the officer saw; exits non-zero on failure.
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const [base, token, name = "Intellexa"] = process.argv.slice(2);
if (!base || !token) {
  console.error("usage: node screening.mjs BASE_URL TOKEN [NAME]");
  process.exit(2);
}
const modules = process.env.VIGIL_UI_TESTS_DIR;
const require = createRequire(path.join(modules, "package.json"));
const { chromium } = require("playwright-core");

const profile = mkdtempSync(path.join(tmpdir(), "vigil-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.VIGIL_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const result = {};
try {
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(30000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/screening");
  await page.fill("#token", token);
  await page.click("#save-token");
  await page.fill("#name", name);
  await page.click("#screen");
  const hit = page.locator(".hit").first();
  await hit.waitFor();
  result.status = await page.textContent("#status");
  result.caption = await hit.locator(".caption").textContent();
  result.entity = await hit.getAttribute("data-entity");
  result.explanation = await hit.locator(".why").textContent();
  result.listings = await hit.locator(".listing").allTextContents();
  const reason = "browser check: ownership to be confirmed by a senior officer";
  await hit.locator("select.disposition").selectOption("escalate");
  await hit.locator("input.reason").fill(reason);
  await hit.locator("button.record").click();
  const decided = page.locator(`.hit[data-entity="${result.entity}"] .decision`);
  await decided.filter({ hasText: reason }).waitFor();
  result.decision = await decided.textContent();
  await page.reload();
  const kept = page.locator(`.hit[data-entity="${result.entity}"] .decision`);
  await kept.filter({ hasText: reason }).waitFor();
  result.after_reload = await kept.textContent();
  result.page_errors = errors;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
