// Builds the web front-end into dist/, the folder `flaneur serve --web-dir` serves:
//   dist/*.html                      the pages, revalidated by browsers on each visit
//   dist/assets/app-<hash>/          this folder's src/app, named after its content
//   dist/assets/viewer-<version>/    the Panoramax web viewer's own build, from node_modules
//   dist/assets/basemap-<version>/   land and country outlines for the offline base map
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
const atlasVersion = versionOf("world-atlas");
const basemapOut = `assets/basemap-${atlasVersion}`;
mkdirSync(join(dist, basemapOut));
const atlas = (file) => JSON.parse(readFileSync(join(packageDir("world-atlas"), file), "utf8"));
const rounded = (geojson) =>
  JSON.stringify(geojson, (key, value) =>
    typeof value === "number" && key !== "id" ? Math.round(value * 1e4) / 1e4 : value,
  );
const land = atlas("land-50m.json");
writeFileSync(join(dist, basemapOut, "land.geojson"), rounded(feature(land, land.objects.land)));
const countries = atlas("countries-50m.json");
const borders = mesh(countries, countries.objects.countries, (a, b) => a !== b);
writeFileSync(join(dist, basemapOut, "borders.geojson"), rounded(borders));

// 3. The pages' own code, in a folder named after the hash of its files.
const appSrc = join(root, "src", "app");
const hash = createHash("sha256");
for (const file of readdirSync(appSrc).sort()) {
  hash.update(file).update(readFileSync(join(appSrc, file)));
}
const appOut = `assets/app-${hash.digest("hex").slice(0, 12)}`;
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
