// The front-end of a catalog-only instance in a real browser (Debian's Chromium, driven by
// playwright-core): the bar offers no upload, and the upload page says why instead of showing
// its form. Any page error fails the test. Screenshots are kept in web/test-output/
// (catalog-*.png).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { startServer } from "./server.mjs";

const web = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
const output = process.env.FLANEUR_WEB_TEST_OUTPUT || join(web, "test-output");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SECOND = 1000;

test("a catalog-only instance offers no upload", { timeout: 300 * SECOND }, async (t) => {
  const dist = join(web, "dist");
  assert.ok(existsSync(join(dist, "upload.html")), `no build in ${dist}: npm run build`);
  mkdirSync(output, { recursive: true });
  const server = await startServer({
    webDir: dist,
    startMs: 60 * SECOND,
    env: { FLANEUR_CATALOG_ONLY: "true" },
  });
  t.after(() => server.stop());

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  t.after(() => browser.close());
  const context = await browser.newContext({ locale: "en-US" });
  // Nothing leaves loopback: outside services the viewer calls get empty answers.
  await context.route((url) => url.hostname !== "127.0.0.1", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: "{}" }));
  const page = await context.newPage();
  page.setDefaultTimeout(60 * SECOND);
  const problems = [];
  page.on("pageerror", (err) => problems.push(`${page.url()}: ${err.stack || err.message}`));

  // The sequences page's bar: its own link stays, the upload link goes once the
  // configuration is read.
  await page.goto(`${server.origin}/sequences`);
  const site = page.locator("nav.site");
  await site.locator('a[href="/sequences"]').waitFor();
  await site.locator('a[href="/upload"]').waitFor({ state: "detached" });
  await page.screenshot({ path: join(output, "catalog-sequences.png") });

  // The upload page, reached by its address: a notice in place of the form.
  await page.goto(`${server.origin}/upload`);
  const notice = page.locator("#closed");
  await notice.waitFor();
  assert.match(await notice.textContent(), /takes no uploads/);
  assert.equal(await page.locator("#drop").count(), 0);
  assert.equal(await site.locator('a[href="/upload"]').count(), 0);
  await page.screenshot({ path: join(output, "catalog-upload.png") });

  assert.deepEqual(problems, []);
});
