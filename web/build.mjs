// Builds the web front-end into dist/, the folder `flaneur serve --web-dir` serves:
//   dist/*.html                      the pages, revalidated by browsers on each visit
//   dist/assets/app-<hash>/          this folder's src/app, named after its content
//   dist/assets/viewer-<version>/    the Panoramax web viewer's own build, from node_modules
//   dist/assets/basemap-<hash>/      land, coasts and borders for the offline base map
// Every folder under assets/ changes name when its content changes, so the server lets
// browsers keep assets for good. Runs on Node 18 and later, with no bundler: the viewer ships
// a ready build, and the pages' own code is plain ES modules.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { feature, mesh } from "topojson-client";

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const dist = join(root, "dist");
const packageDir = (name) => dirname(require.resolve(`${name}/package.json`));
const versionOf = (name) =>
  JSON.parse(readFileSync(join(packageDir(name), "package.json"), "utf8")).version;

/** A short name for some content: the start of the SHA-256 of its parts. */
function hashOf(parts) {
  const hash = createHash("sha256");
  for (const part of parts) {
    hash.update(part);
  }
  return hash.digest("hex").slice(0, 12);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

// 1. The viewer: its script, style and fonts (source maps left out: 15 MB nobody needs).
const viewerVersion = versionOf("@panoramax/web-viewer");
const viewerOut = `assets/viewer-${viewerVersion}`;
const viewerBuild = join(packageDir("@panoramax/web-viewer"), "build");
mkdirSync(join(dist, viewerOut));
for (const file of ["index.js", "index.css"]) {
  cpSync(join(viewerBuild, file), join(dist, viewerOut, file));
}
cpSync(join(viewerBuild, "static"), join(dist, viewerOut, "static"), { recursive: true });
cpSync(join(packageDir("@panoramax/web-viewer"), "LICENSE"), join(dist, viewerOut, "LICENSE"));

// 2. The offline base map: Natural Earth's land and country borders at 1:50m, from TopoJSON
// to the GeoJSON MapLibre reads, with coordinates rounded to about 10 m to halve the size.
const atlas = (file) => JSON.parse(readFileSync(join(packageDir("world-atlas"), file), "utf8"));
const rounded = (geojson) =>
  JSON.stringify(geojson, (key, value) =>
    typeof value === "number" && key !== "id" ? Math.round(value * 1e4) / 1e4 : value,
  );
// The outlines are cut at the antimeridian for a globe, so a ring or line may step from 180°
// to -180°: drawn on a flat map, that step crosses the whole world as a thin sliver. Lines
// are split at such steps. Rings are first made continuous (continuing past 180°), then cut
// into the pieces that fall in each copy of the world, shifted back into [-180°, 180°].
// Steps along a pole, as the bottom of Antarctica's ring, are real edges and stay.
const isJump = ([lon, lat], [previousLon, previousLat]) =>
  Math.abs(lon - previousLon) > 180 && !(Math.abs(lat) > 89 && Math.abs(previousLat) > 89);

function splitLine(points) {
  const lines = [[points[0]]];
  for (let i = 1; i < points.length; i++) {
    if (isJump(points[i], points[i - 1])) {
      lines.push([]);
    }
    lines.at(-1).push(points[i]);
  }
  return lines.filter((line) => line.length > 1);
}

function unwrapRing(points) {
  let shift = 0;
  return points.map(([lon, lat], i) => {
    if (i > 0 && isJump([lon, lat], points[i - 1])) {
      shift += lon > points[i - 1][0] ? -360 : 360;
    }
    return [lon + shift, lat];
  });
}

/** The part of a ring on one side of the meridian `limit` (Sutherland–Hodgman). */
function clipRing(ring, limit, keepEast) {
  const inside = ([lon]) => (keepEast ? lon >= limit : lon <= limit);
  const cut = ([lon1, lat1], [lon2, lat2]) =>
    [limit, lat1 + ((lat2 - lat1) * (limit - lon1)) / (lon2 - lon1)];
  const out = [];
  ring.forEach((point, i) => {
    const previous = ring[(i + ring.length - 1) % ring.length];
    if (inside(point) !== inside(previous)) {
      out.push(cut(previous, point));
    }
    if (inside(point)) {
      out.push(point);
    }
  });
  return out;
}

/**
 * A ring around a pole, as Antarctica's coast, ends a full turn from where it starts: on a
 * flat map, closing it straight would cross the world. It is closed along the pole instead,
 * which the map draws as its edge.
 */
function closeAroundPole(ring) {
  const [first, last] = [ring[0], ring.at(-1)];
  if (Math.abs(last[0] - first[0]) <= 180) {
    return ring;
  }
  const pole = first[1] < 0 ? -90 : 90;
  const end = first[0] + 360 * Math.round((last[0] - first[0]) / 360);
  return [...ring, [end, first[1]], [end, pole], [first[0], pole]];
}

const area = (ring) =>
  ring.reduce((sum, [x1, y1], i) => {
    const [x2, y2] = ring[(i + 1) % ring.length];
    return sum + x1 * y2 - x2 * y1;
  }, 0) / 2;

/** A polygon (outer ring, then holes) as the pieces of it in each copy of the world. */
function polygonsInWorld(rings) {
  // Rings come closed; clipping works on open ones and closes them again at the end.
  const open = rings.map((ring) => closeAroundPole(unwrapRing(ring.slice(0, -1))));
  const inWorld = (ring, shift) => {
    const shifted = ring.map(([lon, lat]) => [lon + shift, lat]);
    const clipped = clipRing(clipRing(shifted, -180, true), 180, false);
    return clipped.length >= 3 && Math.abs(area(clipped)) > 1e-9 ? [...clipped, clipped[0]] : null;
  };
  const pieces = [];
  for (const shift of [-360, 0, 360]) {
    const outer = inWorld(open[0], shift);
    if (outer) {
      const holes = open.slice(1).map((hole) => inWorld(hole, shift)).filter(Boolean);
      pieces.push([outer, ...holes]);
    }
  }
  return pieces;
}

function forFlatMap(geojson) {
  const geometry = (g) => {
    switch (g.type) {
      case "LineString":
        return { type: "MultiLineString", coordinates: splitLine(g.coordinates) };
      case "MultiLineString":
        return { ...g, coordinates: g.coordinates.flatMap(splitLine) };
      case "Polygon":
        return { type: "MultiPolygon", coordinates: polygonsInWorld(g.coordinates) };
      case "MultiPolygon":
        return { ...g, coordinates: g.coordinates.flatMap(polygonsInWorld) };
      default:
        return g;
    }
  };
  if (geojson.type === "FeatureCollection") {
    return { ...geojson, features: geojson.features.map(forFlatMap) };
  }
  if (geojson.type === "Feature") {
    return { ...geojson, geometry: geometry(geojson.geometry) };
  }
  return geometry(geojson);
}

/** Stops the build if a line of `geojson` still crosses the world, as a wrong cut would. */
function checkNoCrossing(file, geojson) {
  const walk = (coordinates) => {
    if (typeof coordinates[0][0] !== "number") {
      coordinates.forEach(walk);
      return;
    }
    coordinates.slice(1).forEach((point, i) => {
      if (isJump(point, coordinates[i])) {
        throw new Error(`${file}: a line crosses the map from ${coordinates[i]} to ${point}`);
      }
    });
  };
  const geometries = geojson.type === "FeatureCollection"
    ? geojson.features.map((feature) => feature.geometry)
    : [geojson.geometry ?? geojson];
  geometries.forEach((geometry) => walk(geometry.coordinates));
}

const land = atlas("land-50m.json");
const countries = atlas("countries-50m.json");
const basemapFiles = {
  "land.geojson": forFlatMap(feature(land, land.objects.land)),
  // Coasts are drawn as lines of their own: the land's outline would also draw the edges
  // where land is cut at the antimeridian and at the poles.
  "coasts.geojson": forFlatMap(mesh(land, land.objects.land)),
  "borders.geojson": forFlatMap(mesh(countries, countries.objects.countries, (a, b) => a !== b)),
};
for (const [file, geojson] of Object.entries(basemapFiles)) {
  checkNoCrossing(file, geojson);
  basemapFiles[file] = rounded(geojson);
}
const basemapOut = `assets/basemap-${hashOf(Object.entries(basemapFiles).flat())}`;
mkdirSync(join(dist, basemapOut));
for (const [file, text] of Object.entries(basemapFiles)) {
  writeFileSync(join(dist, basemapOut, file), text);
}

// 3. The pages' own code, in a folder named after the hash of its files.
const appSrc = join(root, "src", "app");
const appFiles = readdirSync(appSrc).sort();
const appOut = `assets/app-${hashOf(appFiles.flatMap((f) => [f, readFileSync(join(appSrc, f))]))}`;
cpSync(appSrc, join(dist, appOut), { recursive: true });

// 4. The pages, pointed at this build's asset folders.
for (const file of readdirSync(join(root, "src")).filter((f) => f.endsWith(".html"))) {
  const html = readFileSync(join(root, "src", file), "utf8")
    .replaceAll("%APP%", `/${appOut}`)
    .replaceAll("%VIEWER%", `/${viewerOut}`)
    .replaceAll("%BASEMAP%", `/${basemapOut}`);
  writeFileSync(join(dist, file), html);
}

console.log(`web front-end built in ${dist} (viewer ${viewerVersion}, ${appOut})`);
