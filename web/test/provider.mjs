// A real OpenID Connect provider for the browser tests (the `oidc-provider` package, with one
// client and its development login form) on a loopback port, and the walk through its forms
// that a login is.
import { createServer } from "node:http";
import Provider from "oidc-provider";

export const CLIENT = { id: "flaneur", secret: "flaneur-browser-test-secret" };

/** The provider's user: any login name the form is given becomes the account id there. */
const claimsOf = (id) => ({
  sub: id,
  preferred_username: `walker-${id}`,
  name: "Zoé Marcheuse",
  email: `${id}@example.org`,
});

/**
 * An HTTP server on a free loopback port for the provider, whose handler is set once the
 * instance's address is known: the provider's address comes first, for the instance to know
 * it; the instance's then, for the provider's client registration. The instance reads the
 * provider's discovery document at the first login, by which time it answers.
 */
export async function listenForProvider() {
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    /** The variables telling `flaneur serve` to log browsers in through this provider. */
    env: {
      OAUTH_PROVIDER: "oidc",
      OAUTH_OIDC_URL: url,
      OAUTH_CLIENT_ID: CLIENT.id,
      OAUTH_CLIENT_SECRET: CLIENT.secret,
    },
    /** Starts answering as the provider of the instance whose API is at `api`. */
    start: (api) => {
      const provider = new Provider(url, {
        clients: [{
          client_id: CLIENT.id,
          client_secret: CLIENT.secret,
          redirect_uris: [`${api}/auth/redirect`],
          post_logout_redirect_uris: [`${api}/auth/post_logout_redirect`],
        }],
        findAccount: (_ctx, id) => ({ accountId: id, claims: () => claimsOf(id) }),
        claims: { openid: ["sub"], profile: ["preferred_username", "name"], email: ["email"] },
        // The profile stays out of the ID token (this package's default, unlike Keycloak):
        // the instance reads the name from the userinfo endpoint.
        pkce: { required: () => true },
        cookies: { keys: ["browser-test-only"] },
      });
      handler = provider.callback();
    },
    close: () => server.close(),
  };
}

/**
 * Fills the provider's login form (and its consent form, shown when the client is new to
 * this user) as `login` once `page` is on it, and waits for the instance's page `landing`.
 * `shot(name)` keeps a screenshot of each form.
 */
export async function passProviderForms(page, op, login, landing, shot) {
  await page.waitForURL((url) => url.href.startsWith(op.url));
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "anything");
  await shot(`form-${login}`);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  if (page.url().startsWith(op.url)) {
    await shot(`consent-${login}`);
    await page.click('button[type="submit"]');
  }
  await page.waitForURL(landing);
}
