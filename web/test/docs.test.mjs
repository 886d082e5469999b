// The API's description page (/api/docs/swagger) in a real browser: it is served by the
// binary whether or not the front-end is built, lists every operation of the OpenAPI
// document, and opening one shows its parameters. A screenshot of the opened operation is
// kept in web/test-output/.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { startServer } from "./server.mjs";

const web = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
const output = process.env.FLANEUR_WEB_TEST_OUTPUT || join(web, "test-output");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

test("the API description page shows every operation", { timeout: 180_000 }, async (t) => {
  // An empty folder as the front-end's build: the page must not need it.
  const emptyBuild = mkdtempSync(join(tmpdir(), "flaneur-no-build-"));
  const server = await startServer({ webDir: emptyBuild, startMs: 60_000 });
  t.after(() => {
    server.stop();
    rmSync(emptyBuild, { recursive: true, force: true });
  });
  const browser = await chromium.launch({ executablePath: chromiumPath });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("requestfailed", (request) => errors.push(`${request.url()} failed`));

  const api = server.api;
  const document = await (await fetch(`${api}/docs/specs.json`)).json();
  const operations = Object.values(document.paths).flatMap((item) => Object.keys(item));
  const response = await page.goto(`${api}/docs/swagger`);
  assert.equal(response.status(), 200);
  assert.equal(await page.locator("details.op").count(), operations.length);

  // Opening item search shows its parameters, among them the bounded limit.
  const search = page.locator("details#get_search");
  await search.locator("summary").click();
  const limit = search.locator("tr", { hasText: "limit" }).first();
  await limit.waitFor({ state: "visible" });
  assert.match(await limit.innerText(), /default 10/);
  mkdirSync(output, { recursive: true });
  await search.screenshot({ path: join(output, "api-docs-search.png") });
  assert.deepEqual(errors, []);
});
