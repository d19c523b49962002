// Writes `<file>.br` and `<file>.gz` next to every wasm, js and css file of the built
// site, which the server sends to browsers that accept them (`ServeDir` with
// precompressed files, in leptos_axum), and deletes those whose source is gone.
// Usage: node frontend/precompress.mjs target/site/pkg
import { readdirSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node frontend/precompress.mjs <site pkg dir>");
  process.exit(2);
}
let raw = 0, gz = 0, br = 0;
for (const name of readdirSync(dir)) {
  const path = join(dir, name);
  if (/\.(br|gz)$/.test(name)) {
    if (!existsSync(path.replace(/\.(br|gz)$/, ""))) rmSync(path);
    continue;
  }
  if (!/\.(wasm|js|css)$/.test(name)) continue;
  const bytes = readFileSync(path);
  const gzipped = gzipSync(bytes, { level: 9 });
  const brotli = brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
  writeFileSync(`${path}.gz`, gzipped);
  writeFileSync(`${path}.br`, brotli);
  raw += bytes.length;
  gz += gzipped.length;
  br += brotli.length;
}
console.log(`precompressed ${dir}: ${raw} bytes, ${gz} gzipped, ${br} brotli`);
