// The terms of service page, where logins lead when the instance wants them accepted: the
// terms the administrators wrote, then a button accepting them for the logged account and
// going on to `next_url`, a page of this site only.
//
// The terms are HTML written by administrators: they are shown in a sandboxed frame where no
// script runs, rather than in this page, whose scripts hold the account's write rights.
import { API, labelled, lang, loggedAccount, loginUrl, sendJson, setupPage, t } from "./common.js";

setupPage("tos");
const frame = document.getElementById("terms");
const accept = document.getElementById("accept");
const status = document.getElementById("status");
const PAGE = `${API}/pages/terms-of-service`;

/**
 * Where to go once accepted: `next_url` when it is a page of this site, else the map. The whole
 * address checked is the one followed: its path alone may read as another site's address
 * (`/.//evil.example` has the path `//evil.example`, which a browser takes for a host).
 */
function nextPage() {
  const wanted = new URLSearchParams(location.search).get("next_url");
  if (!wanted) {
    return "/";
  }
  try {
    const url = new URL(wanted, location.origin);
    return url.origin === location.origin ? url.href : "/";
  } catch {
    return "/";
  }
}

/** The terms in the page's language, else in the first language they exist in; `null`. */
async function terms() {
  const html = async (url) => {
    const response = await fetch(url);
    if (response.status === 404) {
      return null;
    }
    if (!response.ok) {
      throw new Error(`${response.status} ${response.statusText}`);
    }
    return response.text();
  };
  const inLanguage = await html(`${PAGE}/${encodeURIComponent(lang)}`);
  if (inLanguage !== null) {
    return inLanguage;
  }
  const listing = await fetch(PAGE);
  const languages = listing.ok ? (await listing.json())?.languages || [] : [];
  const other = languages.find((l) => l.language && l.language !== lang);
  return other ? html(`${PAGE}/${encodeURIComponent(other.language)}`) : null;
}

/**
 * `html` with only web and mail links: a `javascript:` or `data:` link would open, in a new tab
 * escaping the frame's sandbox, a page running with this site's origin. The text is parsed in
 * an inert document, where nothing runs or loads.
 */
function webLinksOnly(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const allowed = ["http:", "https:", "mailto:"];
  for (const attribute of ["href", "action", "formaction", "xlink:href"]) {
    for (const element of doc.querySelectorAll(`[${CSS.escape(attribute)}]`)) {
      let protocol = null;
      try {
        protocol = new URL(element.getAttribute(attribute), location.href).protocol;
      } catch {
        // An address that does not parse is dropped with the others.
      }
      if (!allowed.includes(protocol)) {
        element.removeAttribute(attribute);
      }
    }
  }
  return doc.head.innerHTML + doc.body.innerHTML;
}

/** Shows `html` in the frame: no scripts, links opening in a new tab, the frame as tall. */
function show(html) {
  frame.title = t("tos_title");
  frame.addEventListener("load", () => {
    const height = frame.contentDocument?.documentElement?.scrollHeight;
    if (height) {
      frame.style.height = `${height + 16}px`;
    }
  });
  frame.srcdoc = '<!doctype html><meta charset="utf-8"><base target="_blank">'
    + "<style>body{font-family:system-ui,sans-serif;margin:0.5rem;color:#1d2430}</style>"
    + webLinksOnly(html);
  frame.hidden = false;
}

async function start() {
  if (!loggedAccount()) {
    const link = document.createElement("a");
    link.href = loginUrl();
    link.textContent = t("tos_logged_out");
    status.append(link);
    return;
  }
  // The button is offered only with terms to accept: none published, or none read, leaves
  // nothing to agree to.
  try {
    const html = await terms();
    if (html === null) {
      status.textContent = t("tos_missing");
      return;
    }
    show(html);
    accept.disabled = false;
  } catch (err) {
    status.textContent = labelled(t("error_loading"), err.message);
  }
}

accept.addEventListener("click", async () => {
  accept.disabled = true;
  status.classList.remove("error");
  try {
    await sendJson("POST", `${API}/users/me/accept_tos`);
    status.textContent = t("tos_accepted");
    location.assign(nextPage());
  } catch (err) {
    status.textContent = labelled(t("error_refused"), err.message);
    status.classList.add("error");
    accept.disabled = false;
  }
});

start();
