#!/usr/bin/env node
// Builds dist/daemon: the platform bundled by esbuild (scripts/bundle.mjs),
// what every command runs (`daemon run`, so `daemon start`, included) when it
// is there and not older than dist/src (bin/paasmaker). A daemon loaded from about 55
// minified chunks rather than ~400 modules keeps about 3 MB less
// (bench/README.md, the daemon's memory). Source maps sit beside the chunks,
// for reading a stack trace back to src/. Run by `npm run build`, after tsc.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'daemon');
rmSync(outdir, { recursive: true, force: true });
let bundlePlatform;
try {
  ({ bundlePlatform } = await import('./bundle.mjs'));
} catch (error) {
  // esbuild is a development dependency: an install without them runs the daemon from dist/src.
  process.stdout.write(`daemon: not bundled (${error.code === 'ERR_MODULE_NOT_FOUND' ? 'esbuild is not installed' : error.message}); it runs from dist/src\n`);
  process.exit(0);
}
try {
  const metafile = await bundlePlatform({ root, outdir, marker: 'dist/daemon', sqlite: 'external', sourcemap: 'linked' });
  const code = Object.entries(metafile.outputs).filter(([file]) => file.endsWith('.js'));
  const bytes = code.reduce((sum, [, output]) => sum + output.bytes, 0);
  process.stdout.write(`daemon: ${code.length} files in dist/daemon (${(bytes / 1024 / 1024).toFixed(1)} MB)\n`);
} catch (error) {
  // A half-written bundle must not be run: bin/paasmaker falls back to dist/src without it.
  rmSync(outdir, { recursive: true, force: true });
  process.stderr.write(`build-daemon: ${error.message}\n`);
  process.exit(1);
}
