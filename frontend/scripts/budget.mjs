// Fails the build when the capture route (the entry chunk, its static imports and CSS)
// is over 100 KB gzipped. Lazily loaded screens (the backlog) do not count.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = 100 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, ".vite/manifest.json"), "utf8"));
const entry = manifest["index.html"];
const files = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || files.has(chunk.file)) return;
  files.add(chunk.file);
  for (const css of chunk.css ?? []) files.add(css);
  for (const dep of chunk.imports ?? []) visit(dep);
};
visit("index.html");
let total = 0;
for (const file of files) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += size;
  console.log(`  ${file}: ${(size / 1024).toFixed(1)} KB gzipped`);
}
const verdict = total <= BUDGET ? "within" : "OVER";
console.log(`capture route JS+CSS: ${(total / 1024).toFixed(1)} KB gzipped (${verdict} the ${BUDGET / 1024} KB budget)`);
if (!entry || total > BUDGET) process.exit(1);
