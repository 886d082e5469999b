// Pictures harvested from another instance, in a real browser (Debian's Chromium, driven by
// playwright-core): two real servers on loopback, a peer holding one uploaded picture and a
// catalog that harvested it (`flaneur peer add`, `flaneur harvest`) beside a picture of its
// own. The sequences page and the viewer's bar say which instance holds the harvested one,
// linking to its page there; the viewer draws it from the peer's files and sends the peer
// nothing but reads; local ones say nothing. Any page error fails the test. Screenshots are kept in web/test-output/
// (federation-*.png).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import {
  flaneurCommand,
  newDataDir,
  picturesDir,
  startServer,
  uploadAndWait,
} from "./server.mjs";

const web = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
const output = process.env.FLANEUR_WEB_TEST_OUTPUT || join(web, "test-output");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SECOND = 1000;
const LIMITS = { start: 60 * SECOND, ready: 300 * SECOND, step: 90 * SECOND };

/** The one sequence an upload made, and its one picture. */
async function uploaded(server, title, file) {
  const set = await uploadAndWait(server.api, title, [file], LIMITS.ready);
  const sequence = set.associated_collections[0].id;
  const items = await (await fetch(`${server.api}/collections/${sequence}/items`)).json();
  return { sequence, picture: items.features[0].id };
}

test("harvested pictures say which instance holds them", { timeout: 900 * SECOND }, async (t) => {
  const dist = join(web, "dist");
  assert.ok(existsSync(join(dist, "index.html")), `no build in ${dist}: npm run build`);
  mkdirSync(output, { recursive: true });
  const pictures = picturesDir();

  // 1. The peer, with one flat picture, harvested into the catalog's data folder before the
  //    catalog serves it; then a picture of the catalog's own.
  const peer = await startServer({ webDir: dist, startMs: LIMITS.start });
  t.after(() => peer.stop());
  const remote = await uploaded(peer, "at the peer", join(pictures, "e1.jpg"));
  const catalogDir = newDataDir();
  flaneurCommand(catalogDir, ["peer", "add", peer.api]);
  const report = flaneurCommand(catalogDir, ["harvest"]);
  assert.ok(report.startsWith(`${peer.api}\tharvested\t`), report);
  const catalog = await startServer({ webDir: dist, startMs: LIMITS.start, dataDir: catalogDir });
  t.after(() => catalog.stop());
  const local = await uploaded(catalog, "at home", join(pictures, "e2.jpg"));
  const peerHost = new URL(peer.origin).host;
  const heldText = `Held by ${peerHost}`;

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  t.after(() => browser.close());
  const open = async (locale) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
    // Nothing leaves loopback: outside services the viewer calls get empty answers.
    await context.route((url) => url.hostname !== "127.0.0.1", (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: "{}" }));
    const page = await context.newPage();
    page.setDefaultTimeout(LIMITS.step);
    page.on("pageerror", (err) => problems.push(`${page.url()}: ${err.stack || err.message}`));
    return page;
  };
  const problems = [];
  const page = await open("en-US");

  // 2. The sequences page: the harvested sequence's card names its instance and links to its
  //    home page there; the local one names none.
  await page.goto(`${catalog.origin}/sequences`);
  const card = (title) => page.locator("#sequences li").filter({ hasText: title });
  const held = card("at the peer").locator(".held");
  await held.waitFor();
  assert.equal(await held.textContent(), heldText);
  assert.equal(await held.locator("a").getAttribute("href"), `${peer.origin}/`);
  await card("at home").waitFor();
  assert.equal(await card("at home").locator(".held").count(), 0);
  await page.screenshot({ path: join(output, "federation-sequences.png") });

  // 3. The viewer on the harvested picture: drawn from the peer's files, with the bar naming
  //    the peer and linking to the picture's page there.
  const fromPeer = [];
  const writesToPeer = [];
  page.on("request", (request) => {
    if (request.url().startsWith(peer.origin) && !["GET", "HEAD"].includes(request.method())) {
      writesToPeer.push(`${request.method()} ${request.url()}`);
    }
  });
  page.on("response", (response) => {
    if (response.url().startsWith(`${peer.api}/pictures/${remote.picture}/`)) {
      fromPeer.push(response.status());
    }
  });
  await page.goto(`${catalog.origin}/?sequence=${remote.sequence}`);
  const line = page.locator("header #held .held");
  await line.waitFor();
  assert.equal(await line.textContent(), heldText);
  const atPeer = new URL(await line.locator("a").getAttribute("href"));
  assert.equal(atPeer.origin, peer.origin);
  assert.equal(atPeer.pathname, "/");
  assert.equal(atPeer.searchParams.get("pic"), remote.picture);
  assert.equal(atPeer.searchParams.get("seq"), remote.sequence);
  assert.ok(fromPeer.length > 0 && fromPeer.every((s) => s === 200), `peer files: ${fromPeer}`);
  await page.screenshot({ path: join(output, "federation-viewer-remote.png") });

  // 4. Moving to the local picture clears the line.
  await page.evaluate(
    ([sequence, picture]) => document.querySelector("pnx-viewer").select(sequence, picture),
    [local.sequence, local.picture],
  );
  await page.waitForFunction((id) =>
    document.querySelector("pnx-viewer")?.psv?.getPictureMetadata()?.id === id
      && document.querySelector("#held").childElementCount === 0, local.picture);
  await page.screenshot({ path: join(output, "federation-viewer-local.png") });

  // 5. Origins that give no safe page: no link, or no line at all.
  const lines = await page.evaluate(async () => {
    const script = document.querySelector('script[type="module"]').src;
    const { heldBy } = await import(script.replace(/map\.js$/, "origin.js"));
    const shown = (origin) => {
      const node = heldBy(origin);
      return node && { text: node.textContent, href: node.querySelector("a")?.href ?? null };
    };
    return [
      "javascript:alert(1)//api", "ftp://example.org/api", undefined, 42,
      "https://example.org/pictures/api/", "https://example.org/v1",
      "https://someone:secret@example.org/api", "https://example.org/api?x=<b>",
    ].map(shown);
  });
  assert.deepEqual(lines, [
    null, null, null, null,
    { text: "Held by example.org", href: "https://example.org/pictures/" },
    { text: "Held by example.org", href: null },
    { text: "Held by example.org", href: null },
    { text: "Held by example.org", href: null },
  ]);

  // 6. In French.
  const french = await open("fr-FR");
  await french.goto(`${catalog.origin}/sequences`);
  const tenu = french.locator("#sequences li .held");
  await tenu.waitFor();
  assert.equal(await tenu.textContent(), `Hébergée par ${peerHost}`);

  // The viewer reads the items' `via` link as the instance to send changes to: nothing was
  // sent to the peer but reads.
  assert.deepEqual(writesToPeer, []);
  assert.deepEqual(problems, []);
});
