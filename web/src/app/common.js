// What every page shares: the language chosen from the browser's, the translated texts, the
// navigation bar with the account's links, reads and writes of the API, and the server's
// settings for the pages.

// French typography puts a no-break space before ':' (and a few other marks); the French texts
// write it as NBSP so that a line never starts with the colon.
const NBSP = "\u00a0";
/** The French plural's "s": none for 0 and 1. */
const plural = (n) => (n > 1 ? "s" : "");

const TEXTS = {
  en: {
    nav_map: "Map",
    nav_sequences: "Sequences",
    nav_upload: "Upload",
    map_title: "Map",
    sequences_title: "Sequences",
    sequences_empty: "No sequence is published yet.",
    sequences_more: "Show more",
    sequences_pictures: (n) => (n === 1 ? "1 picture" : `${n} pictures`),
    sequences_untitled: "Untitled sequence",
    held_by: "Held by",
    upload_title: "Upload pictures",
    upload_intro:
      "Pick or drop geotagged JPEG pictures (flat or 360°), or a whole folder. " +
      "They are grouped into sequences by time and place, then published.",
    upload_closed:
      "This instance is a catalog of pictures shared on other instances: it takes no " +
      "uploads. Send your pictures to a Panoramax instance that takes contributions.",
    upload_drop: "Drop pictures or a folder here",
    upload_pick_files: "Choose pictures",
    upload_pick_folder: "Choose a folder",
    upload_set_title: "Title",
    upload_send: "Send",
    upload_clear: "Clear",
    upload_files_picked: (n) => (n === 1 ? "1 file picked" : `${n} files picked`),
    upload_waiting: "waiting",
    upload_sending: "sending",
    upload_accepted: "received",
    upload_rejected: "refused",
    upload_duplicate: "already there",
    upload_network: "could not be sent (network error)",
    upload_server_error: (status) => `could not be sent (server error ${status})`,
    upload_not_tried: "not sent: the server stopped answering",
    upload_retrying: (seconds) => `sending failed, trying again in ${seconds} s`,
    upload_summary: (sent, total, refused, failed) =>
      `${sent} of ${total} sent, ${refused} refused` + (failed ? `, ${failed} not sent` : ""),
    upload_unsent: (n) =>
      (n === 1 ? "1 picture could not be sent" : `${n} pictures could not be sent`) +
      " (server unreachable or failing). Try them again, or finish the upload with the " +
      "pictures received so far.",
    upload_complete_failed:
      "The server could not be told that the upload is finished. Try again when it is back.",
    upload_retry_failed: "Send the failed pictures again",
    upload_finish: "Finish with the received pictures",
    upload_following_lost: "The server does not answer; still trying…",
    upload_processing: (done, total) => `Processing pictures: ${done} of ${total} ready`,
    upload_done: "All pictures are published.",
    upload_nothing_accepted: "No picture was accepted, so no sequence was made.",
    upload_sequences: "Sequences made from this upload",
    upload_sequence_ready: "ready",
    upload_sequence_preparing: "being prepared",
    upload_failed: "The upload could not start",
    error_loading: "Could not load from the server",
    account_login: "Log in",
    account_logout: "Log out",
    account_mine: "My sequences",
    mine_title: "My sequences",
    mine_intro:
      "Your sequences, published or still being prepared, whoever may see them. " +
      "Rename them, choose who sees them, or delete them.",
    mine_empty: "You have no sequence yet.",
    mine_logged_out: "Log in to see and change your sequences.",
    mine_status_ready: "published",
    mine_status_preparing: "being prepared",
    mine_title_label: "Title",
    mine_rename: "Rename",
    mine_visibility_label: "Who sees it",
    mine_visibility_anyone: "Everyone",
    "mine_visibility_logged-only": "Only people logged in",
    "mine_visibility_owner-only": "Only me",
    mine_delete: "Delete",
    mine_delete_confirm: (title) =>
      `Delete the sequence "${title}" and its pictures? This cannot be undone.`,
    mine_saved: "Saved.",
    mine_deleted: (title) => `The sequence "${title}" is deleted.`,
    error_refused: "The server refused",
    mine_open: "Open in the viewer",
    token_title: "Token accepted",
    token_done: "The token is now linked to your account.",
    token_back:
      "You can close this page and go back to the command-line tool or application that " +
      "asked for it: it now sends pictures in your name.",
    tos_title: "Terms of service",
    tos_intro: "Please read the terms of service of this instance and accept them to go on.",
    tos_accept: "I accept the terms of service",
    tos_accepted: "Thank you, the terms of service are accepted.",
    tos_missing: "This instance has not published terms of service.",
    tos_logged_out: "Log in first: the terms are accepted by an account.",
    tos_continue: "Go on",
  },
  fr: {
    nav_map: "Carte",
    nav_sequences: "Séquences",
    nav_upload: "Envoyer",
    map_title: "Carte",
    sequences_title: "Séquences",
    sequences_empty: "Aucune séquence n'est encore publiée.",
    sequences_more: "Afficher plus",
    sequences_pictures: (n) => (n <= 1 ? `${n} photo` : `${n} photos`),
    sequences_untitled: "Séquence sans titre",
    held_by: "Hébergée par",
    upload_title: "Envoyer des photos",
    upload_intro:
      "Choisissez ou déposez des photos JPEG géolocalisées (classiques ou 360°), ou un " +
      "dossier entier. Elles sont regroupées en séquences selon l'heure et le lieu, " +
      "puis publiées.",
    upload_closed:
      "Cette instance est un catalogue de photos partagées sur d'autres instances" +
      `${NBSP}: elle ne reçoit pas d'envois. Envoyez vos photos à une instance Panoramax ` +
      "qui accepte les contributions.",
    upload_drop: "Déposez ici des photos ou un dossier",
    upload_pick_files: "Choisir des photos",
    upload_pick_folder: "Choisir un dossier",
    upload_set_title: "Titre",
    upload_send: "Envoyer",
    upload_clear: "Effacer",
    upload_files_picked: (n) => (n <= 1 ? `${n} fichier choisi` : `${n} fichiers choisis`),
    upload_waiting: "en attente",
    upload_sending: "envoi",
    upload_accepted: "reçue",
    upload_rejected: "refusée",
    upload_duplicate: "déjà présente",
    upload_network: "n'a pas pu être envoyée (erreur réseau)",
    upload_server_error: (status) => `n'a pas pu être envoyée (erreur du serveur ${status})`,
    upload_not_tried: `non envoyée${NBSP}: le serveur ne répondait plus`,
    upload_retrying: (seconds) => `échec de l'envoi, nouvel essai dans ${seconds}${NBSP}s`,
    upload_summary: (sent, total, refused, failed) =>
      `${sent} sur ${total} envoyée${plural(sent)}, ${refused} refusée${plural(refused)}` +
      (failed ? `, ${failed} non envoyée${plural(failed)}` : ""),
    upload_unsent: (n) =>
      (n <= 1
        ? `${n} photo n'a pas pu être envoyée`
        : `${n} photos n'ont pas pu être envoyées`) +
      " (serveur injoignable ou en erreur). Renvoyez-les, ou terminez l'envoi avec les " +
      "photos déjà reçues.",
    upload_complete_failed:
      "Le serveur n'a pas pu être averti de la fin de l'envoi. " +
      "Réessayez quand il sera revenu.",
    upload_retry_failed: "Renvoyer les photos en échec",
    upload_finish: "Terminer avec les photos reçues",
    upload_following_lost: "Le serveur ne répond pas, nouvelle tentative en cours…",
    upload_processing: (done, total) =>
      `Traitement des photos${NBSP}: ${done} sur ${total} prêtes`,
    upload_done: "Toutes les photos sont publiées.",
    upload_nothing_accepted:
      `Aucune photo n'a été acceptée${NBSP}: aucune séquence n'a été créée.`,
    upload_sequences: "Séquences issues de cet envoi",
    upload_sequence_ready: "prête",
    upload_sequence_preparing: "en préparation",
    upload_failed: "L'envoi n'a pas pu commencer",
    error_loading: "Le chargement depuis le serveur a échoué",
    account_login: "Se connecter",
    account_logout: "Se déconnecter",
    account_mine: "Mes séquences",
    mine_title: "Mes séquences",
    mine_intro:
      "Vos séquences, publiées ou encore en préparation, quelle que soit leur visibilité. " +
      "Renommez-les, choisissez qui les voit ou supprimez-les.",
    mine_empty: "Vous n'avez encore aucune séquence.",
    mine_logged_out: "Connectez-vous pour voir et modifier vos séquences.",
    mine_status_ready: "publiée",
    mine_status_preparing: "en préparation",
    mine_title_label: "Titre",
    mine_rename: "Renommer",
    mine_visibility_label: "Qui la voit",
    mine_visibility_anyone: "Tout le monde",
    "mine_visibility_logged-only": "Seulement les personnes connectées",
    "mine_visibility_owner-only": "Moi seulement",
    mine_delete: "Supprimer",
    mine_delete_confirm: (title) =>
      `Supprimer la séquence «${NBSP}${title}${NBSP}» et ses photos${NBSP}? ` +
      "C'est définitif.",
    mine_saved: "Enregistré.",
    mine_deleted: (title) => `La séquence «${NBSP}${title}${NBSP}» est supprimée.`,
    error_refused: "Le serveur a refusé",
    mine_open: "Ouvrir dans la visionneuse",
    token_title: "Jeton accepté",
    token_done: "Le jeton est maintenant lié à votre compte.",
    token_back:
      "Vous pouvez fermer cette page et revenir à l'outil en ligne de commande ou à " +
      `l'application qui l'a demandé${NBSP}: il envoie désormais les photos en votre nom.`,
    tos_title: "Conditions d'utilisation",
    tos_intro:
      "Lisez les conditions d'utilisation de cette instance et acceptez-les pour continuer.",
    tos_accept: "J'accepte les conditions d'utilisation",
    tos_accepted: "Merci, les conditions d'utilisation sont acceptées.",
    tos_missing: "Cette instance n'a pas publié de conditions d'utilisation.",
    tos_logged_out: `Connectez-vous d'abord${NBSP}: les conditions sont acceptées par un compte.`,
    tos_continue: "Continuer",
  },
};

/** The page's language: the first of the browser's languages that the pages know. */
export const lang = (() => {
  for (const wanted of navigator.languages || [navigator.language || "en"]) {
    const base = wanted.toLowerCase().split("-")[0];
    if (base in TEXTS) {
      return base;
    }
  }
  return "en";
})();

/** The text of `key` in the page's language; a function for texts that take values. */
export function t(key, ...values) {
  const text = TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
  return typeof text === "function" ? text(...values) : text;
}

/** `label: value`, with the colon the page's language writes. */
export function labelled(label, value) {
  return lang === "fr" ? `${label}${NBSP}: ${value}` : `${label}: ${value}`;
}

/** The API's address on this server. */
export const API = `${location.origin}/api`;

/**
 * Sets the language, the title and the navigation bar of a page; `current` names its link.
 * The bar's account links come once the server said whether it has logins.
 */
export function setupPage(current) {
  document.documentElement.lang = lang;
  document.title = `${t(`${current}_title`)} · Flâneur`;
  const nav = document.querySelector("nav.site");
  for (const [page, href] of [["map", "/"], ["sequences", "/sequences"], ["upload", "/upload"]]) {
    const link = document.createElement("a");
    link.href = href;
    link.textContent = t(`nav_${page}`);
    if (page === current) {
      link.setAttribute("aria-current", "page");
    }
    nav.append(link);
  }
  for (const node of document.querySelectorAll("[data-text]")) {
    node.textContent = t(node.dataset.text);
  }
  const account = document.createElement("nav");
  account.className = "account";
  nav.after(account);
  showAccount(account, current);
  hideContributions(nav, current);
}

/**
 * On an instance taking no contributions (`is_read_only` in its configuration), drops the
 * bar's upload link and, on the upload page, says so in place of the form.
 */
async function hideContributions(nav, current) {
  let configuration;
  try {
    configuration = await loadConfiguration();
  } catch {
    // Without the server's answer the page offers what it always does.
    return;
  }
  if (!configuration?.is_read_only) {
    return;
  }
  nav.querySelector('a[href="/upload"]')?.remove();
  if (current === "upload") {
    const main = document.querySelector("main");
    const notice = document.createElement("p");
    notice.id = "closed";
    notice.textContent = t("upload_closed");
    main.replaceChildren(main.querySelector("h1"), notice);
  }
}

/** The value of the cookie `name`, decoded, or `null`. */
export function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  if (!found) {
    return null;
  }
  const value = found.slice(name.length + 1);
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The logged account as the login cookies name it, `{ id, name }`, or `null`. */
export function loggedAccount() {
  const id = cookie("user_id");
  return id ? { id, name: cookie("user_name") || id } : null;
}

/** The address of the login, coming back to `next` (by default this page). */
export function loginUrl(next = location.pathname + location.search) {
  return `${API}/auth/login?next_url=${encodeURIComponent(next)}`;
}

/**
 * Fills the bar's account links: the logged account's name, its sequences and the logout,
 * or the login; nothing on an instance without logins (tokens are its only credentials).
 */
async function showAccount(nav, current) {
  const link = (text, href) => {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  };
  let configuration;
  try {
    configuration = await loadConfiguration();
  } catch {
    // Without the server's answer the page works as before, only without account links.
    return;
  }
  if (!configuration?.auth?.enabled) {
    return;
  }
  const account = loggedAccount();
  if (!account) {
    nav.append(link(t("account_login"), loginUrl()));
    return;
  }
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = account.name;
  const mine = link(t("account_mine"), "/my-sequences");
  if (current === "mine") {
    mine.setAttribute("aria-current", "page");
  }
  nav.append(name, mine, link(t("account_logout"), `${API}/auth/logout?next_url=/`));
}

/**
 * Throws an error with the server's message for a failed answer whose body is `body`, and
 * the reason of each refused field when it lists them (`details: [{ error }]`).
 */
function fail(response, body) {
  const message = body?.message || `${response.status} ${response.statusText}`;
  const reasons = Array.isArray(body?.details)
    ? body.details.map((detail) => detail?.error).filter((e) => typeof e === "string")
    : [];
  throw new Error(reasons.length ? labelled(message, reasons.join("; ")) : message);
}

/** GETs JSON, throwing an error with the server's message on a failed answer. */
export async function getJson(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    fail(response, body);
  }
  return body;
}

/**
 * Sends a change as the logged account (`method` to `url`, with `body` as JSON when given)
 * and answers the JSON the server answered, `null` for none. Writes made with the login
 * cookie carry its CSRF value, which only this site's pages can read.
 */
export async function sendJson(method, url, body) {
  const headers = { "X-CSRF-Token": cookie("flaneur_csrf") || "" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  // 304: a change to what already was.
  if (!response.ok && response.status !== 304) {
    fail(response, answer);
  }
  return answer;
}

let configurationRead;

/** The instance's `/api/configuration`, read once for the page. */
export function loadConfiguration() {
  configurationRead ??= getJson(`${API}/configuration`);
  return configurationRead;
}

/** The server's settings for the pages (`flaneur serve --basemap-style`). */
export function loadSettings() {
  return getJson("/web/settings.json");
}

/** The href of a document's first link of relation `rel`. */
export function linkOf(document, rel) {
  return (document?.links || []).find((link) => link.rel === rel)?.href;
}
