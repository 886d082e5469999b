// The front-end in a real browser (Debian's Chromium, driven by playwright-core) against the
// real server: the map shows the coverage, a click opens a 360° picture in the viewer, the
// viewer moves along the sequence, the upload page turns two flat pictures into a sequence
// (after riding out a server that does not answer), and the sequences page lists both and
// opens one in the viewer. Any page error, failed request or error answer of our server
// fails the test.
// Screenshots of each step are kept in web/test-output/ (printed at the end).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { picturesDir, startServer, uploadAndWait } from "./server.mjs";

const web = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
const output = process.env.FLANEUR_WEB_TEST_OUTPUT || join(web, "test-output");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

// Generous limits: the test runs on small, loaded machines, where a debug build prepares
// 360° pictures slowly and the browser renders WebGL in software.
const SECOND = 1000;

/** The five 360° GoPro Max pictures of the test data, in capture order, and two flat ones. */
const GOPRO = ["1.jpg", "2.jpg", "3.jpg", "4.jpg", "5.jpg"];
const SONY = ["e1.jpg", "e2.jpg"];
const LIMITS = {
  start: 60 * SECOND,
  ready: 300 * SECOND,
  page: 90 * SECOND,
  step: 60 * SECOND,
};

/** Runs one step, failing with its name when it throws or outlasts `ms`. */
async function step(name, ms, run, page) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / SECOND} s`)), ms);
  });
  try {
    return await Promise.race([run(), timeout]);
  } catch (err) {
    if (page) {
      await page.screenshot({ path: join(output, "failed.png") }).catch(() => {});
    }
    throw new Error(`step "${name}" failed: ${err.message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

test("map, viewer and upload page work in a browser", { timeout: 900 * SECOND }, async (t) => {
  const dist = join(web, "dist");
  assert.ok(existsSync(join(dist, "index.html")), `no build in ${dist}: run npm run build`);
  assert.ok(existsSync(chromiumPath), `${chromiumPath} missing: scripts/install-deps.sh --test`);
  rmSync(output, { recursive: true, force: true });
  mkdirSync(output, { recursive: true });
  const pictures = picturesDir();

  const server = await step("start flaneur serve", LIMITS.start, () =>
    startServer({ webDir: dist, startMs: LIMITS.start }));
  t.after(() => server.stop());
  const gopro = await step("upload the five 360° pictures through the API", LIMITS.ready, () =>
    uploadAndWait(server.api, "gopro", GOPRO.map((name) => join(pictures, name)), LIMITS.ready));
  const sequenceId = gopro.associated_collections[0].id;
  const items = await (await fetch(`${server.api}/collections/${sequenceId}/items`)).json();
  const [first, second] = items.features;
  assert.equal(first.properties["pers:interior_orientation"].field_of_view, 360);

  // Playwright gives the browser a fresh profile; the flags stop what it would fetch in the
  // background.
  const browser = await step("launch Chromium", LIMITS.start, () => chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
    timeout: LIMITS.start,
  }));
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
  page.setDefaultTimeout(LIMITS.step);

  // The viewer calls outside services on its own (address lookup, semantic tag presets).
  // The test machine has no network, so empty answers stand in for them, keeping their
  // failures out of the page errors, which are then ours alone.
  const outside = new Set();
  await page.route((url) => !url.href.startsWith(server.origin), (route) => {
    outside.add(new URL(route.request().url()).host);
    return route.fulfill({ status: 200, contentType: "application/json", body: "{}" });
  });

  // Everything wrong on our side, collected for the end. Requests the page itself cancels
  // (map tiles left behind by a zoom) are the page's choice, not failures of the server, and
  // failures the test makes up on purpose (`injected`) are not the server's either.
  const problems = [];
  const injected = new Set();
  const ours = (request) => request.url().startsWith(server.origin) && !injected.has(request);
  const watch = (page) => {
    page.on("pageerror", (err) => {
      problems.push(`page error on ${page.url()}: ${err.stack || err.message}`);
    });
    page.on("requestfailed", (request) => {
      const reason = request.failure()?.errorText;
      if (ours(request) && reason !== "net::ERR_ABORTED") {
        problems.push(`request failed: ${request.method()} ${request.url()} (${reason})`);
      }
    });
    page.on("response", (response) => {
      const request = response.request();
      if (ours(request) && response.status() >= 400) {
        problems.push(`error answer: ${response.status()} ${request.method()} ${response.url()}`);
      }
    });
  };
  watch(page);

  // 1. The map page shows the coverage: at zoom 15 the pictures layer is drawn.
  await step("open the map page", LIMITS.page, async () => {
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => document.querySelector("pnx-viewer")?.map, null,
      { timeout: LIMITS.page });
    await page.evaluate(() => document.querySelector("pnx-viewer").onceMapReady());
    // The whole world, where outlines cut wrong at the antimeridian would cross the map. The
    // viewer may still be moving to the pictures on its own: jump again until it stays.
    for (let tries = 0; tries < 5; tries++) {
      const zoom = await page.evaluate(async () => {
        const map = document.querySelector("pnx-viewer").map;
        const idle = new Promise((r) => map.once("idle", r));
        map.jumpTo({ center: [170, 0], zoom: 1.2 });
        await idle;
        await new Promise((r) => setTimeout(r, 500));
        return map.getZoom();
      });
      if (zoom < 2) {
        break;
      }
    }
    await page.screenshot({ path: join(output, "0-map-world.png") });
  }, page);
  const [lon, lat] = first.geometry.coordinates;
  await step("see the pictures at zoom 15", LIMITS.step, async () => {
    await page.evaluate(async ([lon, lat]) => {
      const map = document.querySelector("pnx-viewer").map;
      const idle = new Promise((r) => map.once("idle", r));
      map.jumpTo({ center: [lon, lat], zoom: 15 });
      await idle;
    }, [lon, lat]);
    await page.waitForFunction(() => {
      const map = document.querySelector("pnx-viewer").map;
      return map.queryRenderedFeatures({ layers: ["geovisio_pictures"] }).length > 0;
    }, null, { timeout: LIMITS.step });
    await page.screenshot({ path: join(output, "1-map-zoom-15.png") });
  }, page);

  // 2. A click on the first 360° picture opens it in the viewer.
  const shown = () => page.evaluate(() =>
    document.querySelector("pnx-viewer")?.psv?.getPictureMetadata()?.id ?? null);
  const waitShown = async (id, what) => {
    try {
      await page.waitForFunction((id) =>
        document.querySelector("pnx-viewer")?.psv?.getPictureMetadata()?.id === id,
      id, { timeout: LIMITS.step - 5 * SECOND });
    } catch {
      throw new Error(`the viewer shows ${await shown()}, not ${what} ${id}`);
    }
  };
  await step("click a 360° picture", LIMITS.step, async () => {
    const target = await page.evaluate(async ([lon, lat]) => {
      const map = document.querySelector("pnx-viewer").map;
      const idle = new Promise((r) => map.once("idle", r));
      // Close enough that the markers of pictures a few metres apart do not overlap.
      map.jumpTo({ center: [lon, lat], zoom: 22 });
      await idle;
      const { x, y } = map.project([lon, lat]);
      const box = map.getCanvas().getBoundingClientRect();
      const under = map.queryRenderedFeatures([x, y], { layers: ["geovisio_pictures"] });
      return { x: box.left + x, y: box.top + y, ids: under.map((f) => f.properties.id) };
    }, [lon, lat]);
    assert.deepEqual(target.ids, [first.id], "the picture alone under the pointer");
    await page.mouse.click(target.x, target.y);
    await waitShown(first.id, "the clicked picture");
    await page.screenshot({ path: join(output, "2-picture-360.png") });
  }, page);

  // 3. The viewer moves to the next picture of the sequence.
  await step("move to the next picture", LIMITS.step, async () => {
    await page.locator("#pnx-player-next").click();
    await waitShown(second.id, "the next picture");
    await page.screenshot({ path: join(output, "3-next-picture.png") });
  }, page);

  // 4. Two flat pictures sent through the upload page become a sequence, though the server
  // is first unreachable, then failing: the page tries again for a while (a minute, which
  // the test's own clock skips), then offers to send the failed pictures again.
  await step("upload two flat pictures with the upload page", LIMITS.ready, async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 }, locale: "en-US",
    });
    t.after(() => context.close());
    await context.clock.install();
    const upload = await context.newPage();
    upload.setDefaultTimeout(LIMITS.step);
    watch(upload);
    const files = `${server.api}/upload_sets/*/files`;
    let sends = 0;
    await upload.route(files, (route) => {
      injected.add(route.request());
      sends += 1;
      return sends === 1 ? route.abort("connectionreset")
        : route.fulfill({ status: 503, contentType: "application/json", body: "{}" });
    });
    await upload.goto(`${server.origin}/upload`);
    await upload.locator("#pick-files").setInputFiles(SONY.map((name) => join(pictures, name)));
    assert.match(await upload.locator("#title").inputValue(), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    await upload.locator("#title").fill("flat pair");
    await upload.locator("#send").click();
    const retry = upload.locator("#retry-failed");
    while (!(await retry.isVisible())) {
      await upload.clock.fastForward(30 * SECOND);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(sends > 2, `the first picture was tried ${sends} times`);
    assert.equal(await upload.locator("#files li.failed").count(), 2);
    const summary = upload.locator("#summary");
    assert.equal(await summary.textContent(), "0 of 2 sent, 0 refused, 2 not sent");
    assert.equal(await upload.locator("#finish").isEnabled(), true);
    assert.equal(await upload.locator("#clear").isEnabled(), true);
    await upload.screenshot({ path: join(output, "4-upload-unsent.png"), fullPage: true });

    // The server is back: the failed pictures go through.
    await upload.unroute(files);
    await retry.click();
    await upload.locator("#outcome[data-state=ready]").waitFor({ timeout: LIMITS.ready });
    assert.equal(await upload.locator("#files li.accepted").count(), 2);
    assert.equal(await summary.textContent(), "2 of 2 sent, 0 refused");
    assert.ok(await upload.locator("#outcome #sequences li[data-ready=true] a").count() >= 1);
    await upload.screenshot({ path: join(output, "4-upload.png"), fullPage: true });
  }, page);

  // 4b. In French, a refused file says why after a colon set off by a no-break space, and the
  // set's default title is a date and time written the same in every language. The refusal
  // is the server's expected answer here, so only page errors count.
  await step("see a refusal on the French upload page", LIMITS.step, async () => {
    const context = await browser.newContext({ locale: "fr-FR" });
    t.after(() => context.close());
    const french = await context.newPage();
    french.on("pageerror", (err) => problems.push(`page error (French): ${err.message}`));
    await french.goto(`${server.origin}/upload`);
    await french.locator("#pick-files").setInputFiles({
      name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a picture"),
    });
    assert.match(await french.locator("#title").inputValue(), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    await french.locator("#send").click();
    await french.locator("#outcome[data-state=empty]").waitFor();
    const refusal = await french.locator("#files li.rejected .state").textContent();
    assert.match(refusal, /^refusée\u00a0: /);
    assert.equal(await french.locator("#summary").textContent(), "1 sur 1 envoyée, 1 refusée");
  }, page);

  // 5. The sequences page lists both sequences with their thumbnails.
  await step("list the sequences", LIMITS.step, async () => {
    await page.goto(`${server.origin}/sequences`);
    await page.locator("#sequences li").nth(1).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll("#sequences img")]
      .every((img) => img.complete && img.naturalWidth > 0), null, { timeout: LIMITS.step });
    // Without a login provider, the bar offers no login.
    await page.waitForLoadState("networkidle");
    assert.equal(await page.locator("nav.account > *").count(), 0);
    await page.screenshot({ path: join(output, "5-sequences.png"), fullPage: true });
  }, page);

  // 6. A sequence of the list opens in the viewer, here on a flat picture.
  await step("open the flat sequence from the list", LIMITS.page, async () => {
    const list = await (await fetch(`${server.api}/collections`)).json();
    const flat = list.collections.find((c) => c.title === "flat pair");
    assert.ok(flat, "the uploaded sequence is listed by the API");
    const flatItems = await (await fetch(`${server.api}/collections/${flat.id}/items`)).json();
    await page.locator(`#sequences a[href="/?sequence=${flat.id}"]`).click();
    await waitShown(flatItems.features[0].id, "the first picture of the flat sequence");
    await page.screenshot({ path: join(output, "6-flat-picture.png") });
  }, page);

  console.log(`screenshots in ${output}`);
  console.log(`outside services the viewer called, answered by the test: ${[...outside]}`);
  assert.deepEqual(problems, [], `problems seen in the browser:\n${problems.join("\n")}`);
});
