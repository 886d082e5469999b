// What every page shares: the language chosen from the browser's, the translated texts, the
// navigation bar and the server's settings for the pages.

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
    upload_title: "Upload pictures",
    upload_intro:
      "Pick or drop geotagged JPEG pictures (flat or 360°), or a whole folder. " +
      "They are grouped into sequences by time and place, then published.",
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
    upload_title: "Envoyer des photos",
    upload_intro:
      "Choisissez ou déposez des photos JPEG géolocalisées (classiques ou 360°), ou un " +
      "dossier entier. Elles sont regroupées en séquences selon l'heure et le lieu, " +
      "puis publiées.",
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

/** Sets the language, the title and the navigation bar of a page; `current` names its link. */
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
}

/** GETs JSON, throwing an error with the server's message on a failed answer. */
export async function getJson(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(body?.message || `${response.status} ${response.statusText}`);
  }
  return body;
}

/** The server's settings for the pages (`flaneur serve --basemap-style`). */
export function loadSettings() {
  return getJson("/web/settings.json");
}

/** The href of a document's first link of relation `rel`. */
export function linkOf(document, rel) {
  return (document?.links || []).find((link) => link.rel === rel)?.href;
}
