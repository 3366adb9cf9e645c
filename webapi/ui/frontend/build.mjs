// Vendors the browser UI's third-party assets into ../static/vendor (committed, so running
// mapsearch never needs npm): OpenSeadragon, and an offline world outline (Natural Earth 110m
// land via world-atlas) drawn as an equirectangular SVG for the bounding-box filter.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { feature } from "topojson-client";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "..", "static", "vendor");
const modules = join(here, "node_modules");

// OpenSeadragon: the minified build, its navigation images, and its licence.
const osdTarget = join(vendor, "openseadragon");
rmSync(osdTarget, { recursive: true, force: true });
mkdirSync(osdTarget, { recursive: true });
const osdBuild = join(modules, "openseadragon", "build", "openseadragon");
cpSync(join(osdBuild, "openseadragon.min.js"), join(osdTarget, "openseadragon.min.js"));
cpSync(join(osdBuild, "images"), join(osdTarget, "images"), { recursive: true });
cpSync(join(modules, "openseadragon", "LICENSE.txt"), join(osdTarget, "LICENSE.txt"));
const osdVersion = JSON.parse(readFileSync(join(modules, "openseadragon", "package.json"))).version;

// World outline: lon/lat map straight onto x/-y in a -180..180 x -90..90 viewBox.
const topology = JSON.parse(readFileSync(join(modules, "world-atlas", "land-110m.json")));
const land = feature(topology, topology.objects.land);
const round = (n) => Math.round(n * 10) / 10;
// Rings crossing the antimeridian (Chukotka, Fiji) would be drawn as lines across the whole map:
// unwrap their longitudes to be continuous, and draw them again shifted by 360° (the viewBox clips).
const unwrap = (ring) => {
  const out = [];
  for (const [lon, lat] of ring) {
    let x = lon;
    if (out.length) {
      const previous = out[out.length - 1][0];
      while (x - previous > 180) x -= 360;
      while (x - previous < -180) x += 360;
    }
    out.push([x, lat]);
  }
  return out;
};
const ringPath = (ring, shift) =>
  "M" + ring.map(([lon, lat]) => `${round(lon + shift)} ${round(-lat)}`).join("L") + "Z";
const paths = [];
for (const geometry of land.features.map((f) => f.geometry)) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  for (const polygon of polygons) {
    const rings = polygon.map(unwrap);
    const lons = rings.flat().map(([lon]) => lon);
    const shifts = [0];
    if (Math.min(...lons) < -180) shifts.push(360);
    if (Math.max(...lons) > 180) shifts.push(-360);
    for (const shift of shifts) paths.push(rings.map((ring) => ringPath(ring, shift)).join(""));
  }
}
// A 30° graticule helps readers aim when they draw an area.
let graticule = "";
for (let lon = -150; lon <= 150; lon += 30) graticule += `M${lon} -90V90`;
for (let lat = -60; lat <= 60; lat += 30) graticule += `M-180 ${-lat}H180`;
const svg =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-180 -90 360 180" preserveAspectRatio="none">` +
  `<!-- Natural Earth 110m land (public domain), via world-atlas -->` +
  `<rect x="-180" y="-90" width="360" height="180" fill="#cfe2f0"/>` +
  `<path fill="none" stroke="#b3c9da" stroke-width="0.25" d="${graticule}"/>` +
  `<path fill="#e9dfc2" stroke="#8a7f63" stroke-width="0.3" fill-rule="evenodd" d="${paths.join("")}"/>` +
  `</svg>\n`;
writeFileSync(join(vendor, "world-110m.svg"), svg);
writeFileSync(
  join(vendor, "VERSIONS.txt"),
  `openseadragon ${osdVersion}\nworld-atlas land-110m (Natural Earth, public domain)\n`,
);
console.log(`vendored openseadragon ${osdVersion} and world-110m.svg (${svg.length} bytes)`);
