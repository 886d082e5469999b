// The map's background when no base-map style is configured: sea, land and country borders
// from Natural Earth, served by this server with the pages, so the map works offline. It has
// no labels, hence no fonts to fetch.

/** A MapLibre style drawing the outlines found under `folder` (an absolute path). */
export function offlineBasemap(folder) {
  const url = (file) => new URL(`${folder}/${file}`, location.href).href;
  return {
    version: 8,
    name: "Flâneur offline base map",
    sources: {
      land: {
        type: "geojson",
        data: url("land.geojson"),
        attribution: "Natural Earth",
      },
      borders: { type: "geojson", data: url("borders.geojson") },
    },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": "#cfe0ea" } },
      {
        id: "land",
        type: "fill",
        source: "land",
        paint: { "fill-color": "#f4f1e8", "fill-outline-color": "#9fb8c6" },
      },
      {
        id: "borders",
        type: "line",
        source: "borders",
        paint: { "line-color": "#b9a6b4", "line-width": 1, "line-dasharray": [3, 2] },
      },
    ],
  };
}
