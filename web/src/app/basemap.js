// The map's background when no base-map style is configured: sea, land, coasts and borders
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
      coasts: { type: "geojson", data: url("coasts.geojson") },
      borders: { type: "geojson", data: url("borders.geojson") },
    },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": "#cfe0ea" } },
      {
        id: "land",
        type: "fill",
        source: "land",
        paint: { "fill-color": "#f4f1e8" },
      },
      {
        id: "coasts",
        type: "line",
        source: "coasts",
        paint: { "line-color": "#9fb8c6", "line-width": 0.6 },
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
