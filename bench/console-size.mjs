#!/usr/bin/env node
// The web console's first load, gzipped: index.html, the entry script and the
// chunks it imports, the styles, and the overview page's chunks (what the
// browser fetches on the first visit). Run after `npm run build`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'console');
const files = JSON.parse(readFileSync(join(dir, 'first-load.json'), 'utf8'));
let raw = 0;
let gzipped = 0;
for (const file of files) {
  const body = readFileSync(join(dir, file));
  const packed = gzipSync(body, { level: 9 }).length;
  raw += body.length;
  gzipped += packed;
  console.log(`${file.padEnd(36)} ${String(body.length).padStart(7)} B  ${String(packed).padStart(6)} B gzipped`);
}
console.log(`first load: ${files.length} files, ${(raw / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped`);
