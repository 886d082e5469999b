// Where a harvested picture or sequence is held: the line "Held by <host>" that the pages show
// beside it, linking to that instance's web page when one can be derived from its API root.
// Everything comes from a remote catalog, so it is written as text into nodes built here,
// and only http and https addresses become links.
import { t } from "./common.js";

/** The property (of items) and top-level key (of collections) naming the origin's API root. */
export const ORIGIN_KEY = "flaneur:origin";

/** The origin's API root as a URL, or `null` when it is missing or not http(s). */
function apiRoot(origin) {
  if (typeof origin !== "string") {
    return null;
  }
  let url;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return null;
  }
  return url;
}

/**
 * The web page at the origin for a picture (`picture` and its `sequence`), or its home page:
 * Panoramax instances serve their viewer at the root above `/api` and read the picture from
 * the address. `null` when the API root does not end with `/api` or carries credentials,
 * since no page can be guessed safely then.
 */
export function originPage(origin, { picture, sequence } = {}) {
  const url = apiRoot(origin);
  if (!url || url.username || url.password || url.search || url.hash) {
    return null;
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (!path.endsWith("/api")) {
    return null;
  }
  const page = new URL(`${path.slice(0, -"/api".length)}/`, url);
  if (typeof picture === "string" && picture) {
    page.searchParams.set("pic", picture);
    if (typeof sequence === "string" && sequence) {
      page.searchParams.set("seq", sequence);
    }
    page.searchParams.set("focus", "pic");
  }
  return page.href;
}

/**
 * The "Held by <host>" line for a document harvested from `origin` (its API root), as an
 * element of `tag` with the class `held`; `null` for a local document (no origin) or an origin
 * that is not an http(s) address.
 */
export function heldBy(origin, { picture, sequence, tag = "p" } = {}) {
  const url = apiRoot(origin);
  if (!url) {
    return null;
  }
  const line = document.createElement(tag);
  line.className = "held";
  const href = originPage(origin, { picture, sequence });
  let host;
  if (href) {
    host = document.createElement("a");
    host.href = href;
    host.rel = "external noopener";
  } else {
    host = document.createElement("span");
  }
  host.textContent = url.host;
  line.append(`${t("held_by")} `, host);
  return line;
}
