// Drives the hub's screening page in a real Chromium: screen a name, see the
// hit and its explanation, record a decision on it and on an entry raised with
// it, reload, see both decisions kept.
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
  // The entry shown first has its own form; entries raised with it (the
  // same name, nothing in the query telling them apart) have theirs.
  const own = hit.locator(":scope > form.decide");
  await own.locator("select.disposition").selectOption("escalate");
  await own.locator("input.reason").fill(reason);
  await own.locator("button.record").click();
  const decided = page.locator(`.hit[data-entity="${result.entity}"] > .decision`);
  await decided.filter({ hasText: reason }).waitFor();
  result.decision = await decided.textContent();
  const tied = page.locator(`.hit[data-entity="${result.entity}"] .tied-entry`);
  result.tied = [];
  for (const t of await tied.all()) {
    result.tied.push({
      entity: await t.getAttribute("data-entity"),
      head: await t.locator(".tied-head").textContent(),
      listings: await t.locator(".listing").allTextContents(),
    });
  }
  const other = "browser check: a different company, registered elsewhere";
  if (result.tied.length > 0) {
    const t = page.locator(`.tied-entry[data-entity="${result.tied[0].entity}"]`);
    await t.locator("select.disposition").selectOption("false-positive");
    await t.locator("input.reason").fill(other);
    await t.locator("button.record").click();
    await t.locator(".decision").filter({ hasText: other }).waitFor();
    result.tied_decision = await t.locator(".decision").textContent();
  }
  await page.reload();
  const kept = page.locator(`.hit[data-entity="${result.entity}"] > .decision`);
  await kept.filter({ hasText: reason }).waitFor();
  result.after_reload = await kept.textContent();
  if (result.tied.length > 0) {
    const t = page.locator(`.tied-entry[data-entity="${result.tied[0].entity}"] .decision`);
    await t.filter({ hasText: other }).waitFor();
    result.tied_after_reload = await t.textContent();
  }
  result.hit_class = await page.locator(`.hit[data-entity="${result.entity}"]`).getAttribute("class");
  result.page_errors = errors;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
