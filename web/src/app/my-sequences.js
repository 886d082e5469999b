// The logged account's own sequences, published or not, whoever may see them: each can be
// renamed, shown to another audience or deleted, through the same API as any client. A
// visitor who is not logged in is invited to log in.
import {
  API, labelled, linkOf, loadConfiguration, loggedAccount, loginUrl, sendJson, setupPage, t,
} from "./common.js";

setupPage("mine");
const list = document.getElementById("sequences");
const more = document.getElementById("more");
const status = document.getElementById("status");
const VISIBILITIES = ["anyone", "logged-only", "owner-only"];
let next = `${API}/users/me/collection?limit=50`;

/** Invites to log in, coming back here. */
function askLogin() {
  status.textContent = "";
  const link = document.createElement("a");
  link.href = loginUrl();
  link.textContent = t("mine_logged_out");
  status.append(link);
  more.hidden = true;
}

/** What a row says under its title: capture date, pictures, state. */
function facts(child) {
  const [start] = child.extent?.temporal?.interval?.[0] || [];
  const date = start ? new Date(start).toLocaleDateString(document.documentElement.lang) : "";
  const count = child["stats:items"]?.count;
  const ready = (child["geovisio:status"] || "ready") === "ready";
  return [
    date,
    count == null ? "" : t("sequences_pictures", count),
    t(ready ? "mine_status_ready" : "mine_status_preparing"),
  ].filter(Boolean).join(" · ");
}

/**
 * Who a sequence may be shown to. Where anyone may make an account, "only people logged in"
 * is everyone, and the server refuses it: it is offered only to a sequence already set so.
 */
function visibilitiesFor(current, registrationIsOpen) {
  return VISIBILITIES.filter((v) => v !== "logged-only" || !registrationIsOpen || v === current);
}

/** One sequence and its controls; `child` is its link in the account's listing. */
function row(child, registrationIsOpen) {
  const id = child.id;
  const url = `${API}/collections/${encodeURIComponent(id)}`;
  let title = child.title || t("sequences_untitled");
  const item = document.createElement("li");
  item.dataset.id = id;

  const thumb = document.createElement("img");
  thumb.src = `${url}/thumb.jpg`;
  thumb.alt = "";
  thumb.loading = "lazy";
  // Sequences still being prepared have no thumbnail yet: the empty frame stays.
  thumb.addEventListener("error", () => thumb.removeAttribute("src"), { once: true });
  const ready = (child["geovisio:status"] || "ready") === "ready";
  let picture = thumb;
  if (ready) {
    picture = document.createElement("a");
    picture.href = `/?sequence=${encodeURIComponent(id)}`;
    picture.title = t("mine_open");
    picture.append(thumb);
  }

  const body = document.createElement("div");
  const outcome = document.createElement("p");
  outcome.className = "outcome";
  outcome.setAttribute("role", "status");
  const say = (text, isError) => {
    outcome.textContent = text;
    outcome.classList.toggle("error", Boolean(isError));
  };
  const refused = (err) => say(labelled(t("error_refused"), err.message), true);

  // Renaming: the title the server kept is shown back.
  const rename = document.createElement("form");
  rename.className = "form rename";
  const titleLabel = document.createElement("label");
  titleLabel.htmlFor = `title-${id}`;
  titleLabel.textContent = t("mine_title_label");
  const titleInput = document.createElement("input");
  titleInput.type = "text";
  titleInput.id = `title-${id}`;
  titleInput.name = "title";
  titleInput.required = true;
  titleInput.maxLength = 250;
  titleInput.value = child.title || "";
  const renameButton = document.createElement("button");
  renameButton.type = "submit";
  renameButton.textContent = t("mine_rename");
  rename.append(titleLabel, titleInput, renameButton);
  rename.addEventListener("submit", async (event) => {
    event.preventDefault();
    renameButton.disabled = true;
    try {
      const changed = await sendJson("PATCH", url, { title: titleInput.value.trim() });
      title = changed?.title ?? titleInput.value.trim();
      titleInput.value = title;
      say(t("mine_saved"));
    } catch (err) {
      refused(err);
    } finally {
      renameButton.disabled = false;
    }
  });

  const about = document.createElement("p");
  about.className = "facts";
  about.textContent = facts(child);

  // Visibility: applied as soon as it is chosen, put back when the server refuses it.
  const controls = document.createElement("p");
  controls.className = "form";
  const visibilityLabel = document.createElement("label");
  visibilityLabel.htmlFor = `visibility-${id}`;
  visibilityLabel.textContent = t("mine_visibility_label");
  const visibility = document.createElement("select");
  visibility.id = `visibility-${id}`;
  visibility.name = "visibility";
  let shownTo = child["geovisio:visibility"] || "anyone";
  for (const value of visibilitiesFor(shownTo, registrationIsOpen)) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = t(`mine_visibility_${value}`);
    visibility.append(option);
  }
  visibility.value = shownTo;
  visibility.addEventListener("change", async () => {
    visibility.disabled = true;
    try {
      const changed = await sendJson("PATCH", url, { visibility: visibility.value });
      shownTo = changed?.["geovisio:visibility"] || visibility.value;
      visibility.value = shownTo;
      say(t("mine_saved"));
    } catch (err) {
      visibility.value = shownTo;
      refused(err);
    } finally {
      visibility.disabled = false;
    }
  });

  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "danger";
  remove.textContent = t("mine_delete");
  remove.addEventListener("click", async () => {
    if (!confirm(t("mine_delete_confirm", title))) {
      return;
    }
    remove.disabled = true;
    try {
      await sendJson("DELETE", url);
      item.remove();
      status.textContent = t("mine_deleted", title);
    } catch (err) {
      refused(err);
      remove.disabled = false;
    }
  });
  controls.append(visibilityLabel, visibility, remove);

  body.append(rename, about, controls, outcome);
  item.append(picture, body);
  return item;
}

async function loadPage() {
  more.hidden = true;
  if (!loggedAccount()) {
    askLogin();
    return;
  }
  try {
    const configuration = await loadConfiguration().catch(() => null);
    const registrationIsOpen = Boolean(configuration?.auth?.registration_is_open);
    const response = await fetch(next);
    // The login ended (expired, or logged out elsewhere) though the page still had cookies.
    if (response.status === 401) {
      askLogin();
      return;
    }
    const page = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error(page?.message || `${response.status} ${response.statusText}`);
    }
    for (const child of (page.links || []).filter((link) => link.rel === "child")) {
      list.append(row(child, registrationIsOpen));
    }
    next = linkOf(page, "next");
    more.hidden = !next;
    status.textContent = list.children.length === 0 ? t("mine_empty") : "";
  } catch (err) {
    status.textContent = labelled(t("error_loading"), err.message);
    more.hidden = false;
  }
}

more.addEventListener("click", loadPage);
loadPage();
