// Browser login in a real browser (Debian's Chromium, driven by playwright-core) against the
// real server and a real OpenID Connect provider (the `oidc-provider` package, with one client
// and its development login form) on loopback ports: login page, the provider's form, back
// logged in with the cookies set, a write from the page with the CSRF value, logout through
// the provider, and a second login landing in the same account.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { listenForProvider, passProviderForms } from "./provider.mjs";
import { startServer } from "./server.mjs";

const web = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
const output = process.env.FLANEUR_WEB_TEST_OUTPUT || join(web, "test-output");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SECOND = 1000;

test("login and logout through an OpenID Connect provider", { timeout: 300 * SECOND }, async (t) => {
  mkdirSync(output, { recursive: true });

  // 1. The provider, then the instance logging in through it.
  const op = await listenForProvider();
  t.after(() => op.close());
  const server = await startServer({
    webDir: join(web, "no-build"),
    startMs: 60 * SECOND,
    env: op.env,
  });
  t.after(() => server.stop());
  op.start(server.api);

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  t.after(() => browser.close());
  const context = await browser.newContext({ locale: "en-US" });
  const page = await context.newPage();
  page.setDefaultTimeout(60 * SECOND);
  // The provider's pages load a web font; nothing outside loopback is reached.
  await page.route((url) => !["127.0.0.1"].includes(url.hostname), (route) =>
    route.fulfill({ status: 200, contentType: "text/css", body: "" }));
  const shot = (name) => page.screenshot({ path: join(output, `login-${name}.png`) });

  const cookies = async () =>
    Object.fromEntries((await context.cookies(server.origin)).map((c) => [c.name, c]));

  /** From the instance's login route through the provider's forms, back to `next`. */
  async function logIn(login, next) {
    await page.goto(`${server.api}/auth/login?next_url=${encodeURIComponent(next)}`);
    await passProviderForms(page, op, login, `${server.origin}${next}`, shot);
  }

  // 2. First login: the account is made, the cookies are set.
  await logIn("zoe", "/api/configuration");
  let jar = await cookies();
  assert.ok(jar.flaneur_session?.httpOnly, "the session cookie is out of scripts' reach");
  assert.equal(jar.flaneur_session.sameSite, "Lax");
  assert.equal(decodeURIComponent(jar.user_name.value), "walker-zoe");
  const firstId = jar.user_id.value;
  const profile = await page.evaluate(() => fetch("/api/users/me").then((r) => r.json()));
  assert.equal(profile.id, firstId);
  assert.equal(profile.name, "walker-zoe", "named from the provider's userinfo");
  assert.equal(profile.oauth_provider, "oidc");
  const seen = await page.evaluate(() => document.cookie);
  assert.ok(!seen.includes("flaneur_session"), seen);
  assert.ok(seen.includes("flaneur_csrf=") && seen.includes("user_id="), seen);

  // 3. The page writes with the CSRF value it reads; without it, the same write is refused.
  const writes = await page.evaluate(async () => {
    const csrf = document.cookie.split("; ").find((c) => c.startsWith("flaneur_csrf="))
      .slice("flaneur_csrf=".length);
    const post = (headers) => fetch("/api/upload_sets", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ title: "from the browser" }),
    }).then((r) => r.status);
    return { withToken: await post({ "X-CSRF-Token": csrf }), csrf };
  });
  assert.equal(writes.withToken, 200);
  const bare = await fetch(`${server.api}/upload_sets`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Cookie: `flaneur_session=${jar.flaneur_session.value}` },
    body: JSON.stringify({ title: "forged" }),
  });
  assert.equal(bare.status, 403, "a write with the cookie alone");

  // 4. Logout goes through the provider's confirmation and back to the page asked for.
  await page.goto(`${server.api}/auth/logout?next_url=/api/conformance`);
  await page.waitForURL((url) => url.href.startsWith(op.url));
  await shot("logout-confirm");
  await page.click('button[name="logout"]');
  await page.waitForURL(`${server.origin}/api/conformance`);
  jar = await cookies();
  for (const name of ["flaneur_session", "flaneur_csrf", "user_id", "user_name", "session"]) {
    assert.equal(jar[name], undefined, `${name} cleared`);
  }

  // 5. Logging in again reaches the same account.
  await logIn("zoe", "/api");
  jar = await cookies();
  assert.equal(jar.user_id.value, firstId);
  await shot("done");
});
