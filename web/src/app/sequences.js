// The sequences page: every published sequence with its thumbnail, page by page following the
// API's `next` links; each opens the map page's viewer on it. A sequence harvested from
// another instance says which one holds it.
import { API, getJson, labelled, linkOf, setupPage, t } from "./common.js";
import { ORIGIN_KEY, heldBy } from "./origin.js";

setupPage("sequences");
const list = document.getElementById("sequences");
const more = document.getElementById("more");
const status = document.getElementById("status");
let next = `${API}/collections?limit=24`;

function card(collection) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = `/?sequence=${encodeURIComponent(collection.id)}`;
  const thumb = document.createElement("img");
  thumb.src = `${API}/collections/${encodeURIComponent(collection.id)}/thumb.jpg`;
  thumb.alt = "";
  thumb.loading = "lazy";
  const title = document.createElement("strong");
  title.textContent = collection.title || t("sequences_untitled");
  const facts = document.createElement("span");
  const [start] = collection.extent?.temporal?.interval?.[0] || [];
  const date = start ? new Date(start).toLocaleDateString(document.documentElement.lang) : "";
  const count = collection["stats:items"]?.count;
  facts.textContent = [date, count == null ? "" : t("sequences_pictures", count)]
    .filter(Boolean)
    .join(" · ");
  link.append(thumb, title, facts);
  item.append(link);
  // Beside the card's link rather than in it: a link may not hold another.
  const held = heldBy(collection[ORIGIN_KEY]);
  if (held) {
    item.append(held);
  }
  return item;
}

async function loadPage() {
  more.hidden = true;
  try {
    const page = await getJson(next);
    for (const collection of page.collections || []) {
      list.append(card(collection));
    }
    next = linkOf(page, "next");
    more.hidden = !next;
    status.textContent = list.children.length === 0 ? t("sequences_empty") : "";
  } catch (err) {
    status.textContent = labelled(t("error_loading"), err.message);
    more.hidden = false;
  }
}

more.addEventListener("click", loadPage);
loadPage();
