// The account's pages in a real browser (Debian's Chromium, driven by playwright-core)
// against the real server logging in through a real OpenID Connect provider on loopback: the
// login link of the bar, "My sequences" renaming, hiding and deleting a sequence the account
// uploaded, a report sent from the viewer and read back by an administrator, the pages a
// claimed token and the terms of service lead to, and the logout. Any page error fails the
// test. Screenshots are kept in web/test-output/ (account-*.png).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { listenForProvider, passProviderForms } from "./provider.mjs";
import { accountCommand, picturesDir, startServer, uploadAndWait } from "./server.mjs";

const web = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
const output = process.env.FLANEUR_WEB_TEST_OUTPUT || join(web, "test-output");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SECOND = 1000;

test("account pages: login, my sequences, report, token and terms pages, logout",
  { timeout: 900 * SECOND }, async (t) => {
    const dist = join(web, "dist");
    assert.ok(existsSync(join(dist, "my-sequences.html")), `no build in ${dist}: npm run build`);
    mkdirSync(output, { recursive: true });
    const pictures = picturesDir();

    const op = await listenForProvider();
    t.after(() => op.close());
    const server = await startServer({
      webDir: dist,
      startMs: 60 * SECOND,
      env: { ...op.env, API_ENFORCE_TOS_ACCEPTANCE: "true" },
    });
    t.after(() => server.stop());
    op.start(server.api);
    accountCommand(server.dataDir, ["create", "root", "--admin"]);
    const admin = accountCommand(server.dataDir, ["token", "root"]);
    const anonymously = (path) => fetch(`${server.api}${path}`);
    const asAdmin = (path, init = {}) => fetch(`${server.api}${path}`,
      { ...init, headers: { ...init.headers, Authorization: `Bearer ${admin}` } });
    // The terms of service, with a script and an event handler that must not run.
    const terms = await asAdmin("/pages/terms-of-service/en", {
      method: "PUT",
      headers: { "Content-Type": "text/html" },
      body: "<h2>Our terms</h2><p>Be kind.</p><script>top.termsScriptRan = true</script>"
        + '<img src="/nothing.png" onerror="top.termsScriptRan = true">'
        + '<a href="javascript:opener.termsScriptRan = true">run</a>'
        + '<a href="data:text/html,<script>opener.termsScriptRan = true</script>">data</a>'
        + '<a href="https://example.org/terms">read more</a>',
    });
    assert.equal(terms.status, 200, await terms.text());

    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
    });
    t.after(() => browser.close());
    const context = await browser.newContext({
      locale: "en-US",
      viewport: { width: 1280, height: 800 },
    });
    // The viewer calls outside services (address lookup, tag presets) and the provider's
    // pages load a web font: empty answers stand in for them, nothing leaves loopback.
    await context.route((url) => url.hostname !== "127.0.0.1", (route) =>
      route.fulfill({
        status: 200,
        contentType: route.request().resourceType() === "stylesheet"
          ? "text/css"
          : "application/json",
        body: route.request().resourceType() === "stylesheet" ? "" : "{}",
      }));
    const page = await context.newPage();
    page.setDefaultTimeout(60 * SECOND);
    const problems = [];
    page.on("pageerror", (err) => problems.push(`${page.url()}: ${err.stack || err.message}`));
    const shot = (name) => page.screenshot({ path: join(output, `account-${name}.png`) });
    const account = page.locator("nav.account");

    // A screenshot of the page as a step failed.
    try {
      // 1. Logged out, the bar offers the login. The first one leads to the terms of
      //    service, shown in a frame where their scripts do not run; once they are accepted,
      //    the browser comes back to the page it left.
      await page.goto(`${server.origin}/sequences`);
      const login = account.getByRole("link", { name: "Log in" });
      assert.equal(
        await login.getAttribute("href"),
        `${server.api}/auth/login?next_url=%2Fsequences`,
      );
      await login.click();
      await passProviderForms(page, op, "zoe", (url) => url.pathname === "/tos-validation.html"
        && url.searchParams.get("next_url") === "/sequences", shot);
      await page.frameLocator("#terms").getByRole("heading", { name: "Our terms" }).waitFor();
      await shot("terms");
      assert.equal(await page.evaluate(() => window.termsScriptRan), undefined);
      // Only its web links stay links: others would run as this site in a new tab.
      const termsFrame = page.frameLocator("#terms");
      assert.equal(await termsFrame.getByText("run").getAttribute("href"), null);
      assert.equal(await termsFrame.getByText("data").getAttribute("href"), null);
      assert.equal(await termsFrame.getByText("read more").getAttribute("href"),
        "https://example.org/terms");
      const accept = page.getByRole("button", { name: "I accept the terms of service" });
      await Promise.all([page.waitForURL(`${server.origin}/sequences`), accept.click()]);
      await account.locator(".name", { hasText: "walker-zoe" }).waitFor();
      const me = await (await page.request.get(`${server.api}/users/me`)).json();
      assert.equal(me.tos_accepted, true, JSON.stringify(me));
      await shot("logged-in");

      // 2. A sequence of this account, sent with a token made for it.
      const token = accountCommand(server.dataDir, ["token", "walker-zoe"]);
      const walk = await uploadAndWait(server.api, "walk", ["e1.jpg", "e2.jpg"]
        .map((name) => join(pictures, name)), 300 * SECOND, token);
      const sequence = walk.associated_collections[0].id;
      const items = await (await anonymously(`/collections/${sequence}/items`)).json();
      const picture = items.features[0].id;

      // 3. My sequences lists it, published and seen by everyone.
      await account.getByRole("link", { name: "My sequences" }).click();
      await page.waitForURL(`${server.origin}/my-sequences`);
      const row = page.locator(`#sequences li[data-id="${sequence}"]`);
      await row.waitFor();
      assert.match(await row.locator(".facts").textContent(), /2 pictures · published/);
      const visibility = row.getByLabel("Who sees it");
      assert.equal(await visibility.inputValue(), "anyone");
      await page.waitForFunction((id) =>
        document.querySelector(`#sequences li[data-id="${id}"] img`)?.naturalWidth > 0, sequence);
      await shot("my-sequences");

      /** Runs `act` and waits for the page's change of the sequence to be answered. */
      const change = async (method, act) => {
        const [response] = await Promise.all([
          page.waitForResponse((r) =>
            r.url() === `${server.api}/collections/${sequence}` && r.request().method() === method),
          act(),
        ]);
        return response;
      };
      const outcome = row.locator(".outcome");
      // The page writes the outcome once it has read the answer's body, after the response.
      const outcomeMatching = async (pattern) => {
        await page.waitForFunction(([el, source]) => new RegExp(source).test(el.textContent),
          [await outcome.elementHandle(), pattern.source]);
        return outcome.textContent();
      };

      // 4. Renaming; a refused title is explained in words and changes nothing.
      const title = row.getByLabel("Title");
      await title.fill("   ");
      assert.equal((await change("PATCH", () => row.getByRole("button", { name: "Rename" })
        .click())).status(), 400);
      assert.match(await outcomeMatching(/^The server refused: .*non-empty string/),
        /^The server refused: .*non-empty string/);
      assert.equal(await outcome.getAttribute("class"), "outcome error");
      await title.fill("Along the river");
      await change("PATCH", () => row.getByRole("button", { name: "Rename" }).click());
      assert.equal(await outcomeMatching(/^Saved\.$/), "Saved.");
      assert.equal((await (await anonymously(`/collections/${sequence}`)).json()).title,
        "Along the river");

      // 5. Hidden from all but its owner: gone for anonymous readers, still listed here.
      await change("PATCH", () => visibility.selectOption("owner-only"));
      assert.equal((await anonymously(`/collections/${sequence}`)).status, 404);
      await page.reload();
      await row.waitFor();
      assert.equal(await row.getByLabel("Who sees it").inputValue(), "owner-only");
      assert.equal(await row.getByLabel("Title").inputValue(), "Along the river");
      await change("PATCH", () => row.getByLabel("Who sees it").selectOption("anyone"));
      assert.equal((await anonymously(`/collections/${sequence}`)).status, 200);
      const choices = () => row.getByLabel("Who sees it").locator("option")
        .evaluateAll((options) => options.map((o) => o.value));
      assert.deepEqual(await choices(), ["anyone", "logged-only", "owner-only"]);
      // Where anyone may make an account, "only people logged in" is not offered.
      await page.route(`${server.api}/configuration`, async (route) => {
        const real = await (await route.fetch()).json();
        const auth = { ...real.auth, registration_is_open: true };
        await route.fulfill({ json: { ...real, auth } });
      });
      await page.reload();
      await row.waitFor();
      assert.deepEqual(await choices(), ["anyone", "owner-only"]);
      await page.unrouteAll();

      // 6. The viewer's own report form, on a picture of the sequence; logged in, the report
      //    is the account's.
      await page.goto(`${server.origin}/?sequence=${sequence}`);
      await page.waitForURL((url) => url.searchParams.get("pic") === picture);
      const legend = page.locator("pnx-picture-legend");
      // The legend opens folded: its report button shows once it is unfolded.
      await legend.locator("#pic-legend-expand").click();
      await legend.locator('#pic-legend-cta pnx-button[kind="fullwarn"]').click();
      const form = page.locator("pnx-report-form");
      // The viewer knows the account from the readable login cookies, and asks no address.
      await form.getByText('This report will be sent using your account "walker-zoe"').waitFor();
      assert.equal(await form.locator("input#email").count(), 0);
      await form.locator("select#issue").selectOption("mislocated");
      await form.locator("textarea#comments").fill("About 50 m east of here");
      await shot("report-form");
      await form.locator('pnx-button[type="submit"]').click();
      await form.getByText("Report was sent successfully").waitFor();
      await shot("report-sent");
      const zoe = (await (await page.request.get(`${server.api}/users/me`)).json()).id;
      const reports = await (await asAdmin("/reports")).json();
      const sent = reports.reports.find((r) => r.picture_id === picture);
      assert.ok(sent, `the report is listed: ${JSON.stringify(reports)}`);
      assert.equal(sent.issue, "mislocated");
      assert.equal(sent.sequence_id, sequence);
      assert.equal(sent.reporter_account_id, zoe);
      assert.equal(sent.reporter_comments, "About 50 m east of here");
      assert.equal((await anonymously(`/collections/${sequence}`)).status, 200, "nothing hidden");

      // 7. Deleting, once confirmed: the row goes, and so does the sequence.
      await page.goto(`${server.origin}/my-sequences`);
      await row.waitFor();
      page.once("dialog", (dialog) => {
        assert.match(dialog.message(), /Along the river/);
        dialog.accept();
      });
      assert.equal((await change("DELETE", () => row.getByRole("button", { name: "Delete" })
        .click())).status(), 204);
      await row.waitFor({ state: "detached" });
      assert.match(await page.locator("#status").textContent(), /is deleted/);
      assert.equal((await anonymously(`/collections/${sequence}`)).status, 404);
      await page.reload();
      await page.locator("#status", { hasText: "You have no sequence yet." }).waitFor();

      // 8. A token a command-line tool made, claimed through its link: the page it leads to
      //    says to go back to the tool, whose token now acts for the account.
      const generated = await (await fetch(`${server.api}/auth/tokens/generate?description=cli`,
        { method: "POST" })).json();
      await page.goto(generated.links.find((link) => link.rel === "claim").href);
      await Promise.all([
        page.waitForURL(`${server.origin}/token-accepted`),
        page.getByRole("button", { name: "Attach the token to my account" }).click(),
      ]);
      await page.getByRole("heading", { name: "Token accepted" }).waitFor();
      assert.match(await page.locator("main").textContent(), /command-line tool/);
      await shot("token-accepted");
      const holder = await (await fetch(`${server.api}/users/me`,
        { headers: { Authorization: `Bearer ${generated.jwt_token}` } })).json();
      assert.equal(holder.name, "walker-zoe");

      // 9. The terms page goes on only to pages of this site, whatever a path reads like once
      // resolved. The other site is on loopback too: nothing leaves the machine if it fails.
      const elsewhere = ["http://127.0.0.2:9/", "/.//127.0.0.2:9/", "/..//127.0.0.2:9/",
        "/\\127.0.0.2:9/"];
      for (const next of elsewhere) {
        const query = new URLSearchParams({ next_url: next });
        await page.goto(`${server.origin}/tos-validation.html?${query}`);
        await page.frameLocator("#terms").getByRole("heading", { name: "Our terms" }).waitFor();
        const left = page.url();
        await Promise.all([page.waitForURL((url) => url.href !== left), accept.click()]);
        assert.equal(new URL(page.url()).origin, server.origin, `next_url=${next}`);
      }
      // With no terms published, there is nothing to accept.
      const removed = await asAdmin("/pages/terms-of-service/en", { method: "DELETE" });
      assert.ok(removed.ok, await removed.text());
      await page.goto(`${server.origin}/tos-validation.html`);
      await page.getByText("This instance has not published terms of service.").waitFor();
      assert.equal(await accept.isDisabled(), true);

      // 10. In French, logged out: the bar and My sequences say so and invite to log in.
      const french = await browser.newContext({ locale: "fr-FR" });
      t.after(() => french.close());
      const frenchPage = await french.newPage();
      await frenchPage.goto(`${server.origin}/my-sequences`);
      await frenchPage.locator("nav.account").getByRole("link", { name: "Se connecter" }).waitFor();
      const invite = frenchPage.locator("#status a");
      assert.equal(await invite.textContent(),
        "Connectez-vous pour voir et modifier vos séquences.");
      assert.equal(await invite.getAttribute("href"),
        `${server.api}/auth/login?next_url=%2Fmy-sequences`);

      // 11. Logout, through the provider's confirmation, back to the map, logged out.
      await account.getByRole("link", { name: "Log out" }).click();
      await page.waitForURL((url) => url.href.startsWith(op.url));
      await page.click('button[name="logout"]');
      await page.waitForURL(`${server.origin}/`);
      await account.getByRole("link", { name: "Log in" }).waitFor();
      assert.equal(await account.locator(".name").count(), 0);
      await shot("logged-out");

    } catch (err) {
      await shot("failed").catch(() => {});
      throw err;
    }

    assert.deepEqual(problems, [], `page errors:\n${problems.join("\n")}`);
  });
