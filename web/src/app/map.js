// The map page: the Panoramax viewer (map of the instance's coverage and picture viewer) on
// this server's API. `?sequence=<id>` opens the viewer on the first picture of a sequence;
// the viewer keeps its own state in the other parameters of the address. A picture harvested
// from another instance is told by a line in the bar naming the instance that holds it.
import { API, getJson, labelled, lang, loadSettings, setupPage, t } from "./common.js";
import { offlineBasemap } from "./basemap.js";
import { ORIGIN_KEY, heldBy } from "./origin.js";

setupPage("map");
const main = document.querySelector("main");
const held = document.createElement("span");
held.id = "held";
document.querySelector("nav.site").after(held);

try {
  const settings = await loadSettings();
  const attributes = {
    id: "viewer",
    endpoint: API,
    lang,
    "map-style": settings.basemap_style
      || JSON.stringify(offlineBasemap(document.body.dataset.basemap)),
  };

  // A sequence asked for by the sequences page: the viewer starts on its first picture,
  // named in the address the way the viewer keeps its own state there (`pic`).
  const params = new URLSearchParams(location.search);
  const sequence = params.get("sequence");
  if (sequence) {
    const page = await getJson(`${API}/collections/${encodeURIComponent(sequence)}/items?limit=1`);
    const first = page.features?.[0];
    params.delete("sequence");
    if (first && !params.has("pic")) {
      params.set("pic", first.id);
      params.set("focus", "pic");
    }
    history.replaceState(null, "", `${location.pathname}?${params}`);
  }

  // The viewer reads its attributes when it is built, so it is parsed with all of them
  // rather than created empty and set up afterwards.
  const html = Object.entries(attributes)
    .map(([name, value]) => `${name}="${escapeAttribute(value)}"`)
    .join(" ");
  main.innerHTML = `<pnx-viewer ${html}></pnx-viewer>`;
  followOrigin(main.querySelector("pnx-viewer"));
} catch (err) {
  const message = document.createElement("p");
  message.className = "error";
  message.textContent = labelled(t("error_loading"), err.message);
  main.append(message);
}

/**
 * Keeps the bar's line in step with the viewer: the origin of the picture shown, nothing for
 * a local picture or when no picture is shown.
 */
function followOrigin(viewer) {
  const show = () => {
    const picture = viewer.psv?.getPictureMetadata?.();
    const line = picture
      && heldBy(picture.properties?.[ORIGIN_KEY], {
        picture: picture.id,
        sequence: picture.sequence?.id,
        tag: "span",
      });
    held.replaceChildren(...(line ? [line] : []));
  };
  viewer.addEventListener("psv:picture-loaded", show);
  viewer.addEventListener("select", (event) => {
    if (!event.detail?.picId) {
      held.replaceChildren();
    }
  });
}

function escapeAttribute(text) {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll('"', "&quot;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}
