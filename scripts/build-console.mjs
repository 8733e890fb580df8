#!/usr/bin/env node
// Bundles the web console (src/console) into dist/console: ESM, one chunk per
// page (loaded when first opened), minified, content-hashed names (served with
// immutable caching), CSS as files. Nothing is fetched at run time: the page
// works offline. index.html names the entry's script and styles; it has no
// inline script (the Content-Security-Policy allows none).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'console');
const out = join(root, 'dist', 'console');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { main: join(source, 'main.tsx') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: false,
  metafile: true,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  chunkNames: 'chunks/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  publicPath: '/',
  tsconfig: join(source, 'tsconfig.json'),
  logLevel: 'warning',
});

const outputs = result.metafile.outputs;
const entryOf = (suffix) => Object.keys(outputs).find((path) => outputs[path].entryPoint?.endsWith(suffix));
/** An output and every chunk it imports statically (what the browser fetches before running it). */
const closure = (path, seen = new Set()) => {
  if (seen.has(path)) return seen;
  seen.add(path);
  for (const imported of outputs[path].imports) if (imported.kind === 'import-statement' && outputs[imported.path]) closure(imported.path, seen);
  return seen;
};
const url = (path) => `/${relative(out, join(root, path)).split('\\').join('/')}`;
const main = entryOf('main.tsx');
const script = url(main);
const styles = outputs[main].cssBundle ? url(outputs[main].cssBundle) : undefined;
// The overview is what nearly every visit opens first: its chunks are fetched beside the entry's, not after them.
const overview = entryOf('pages/overview.tsx');
const preload = [...closure(overview)].filter((path) => !closure(main).has(path)).map(url);
const tags = [styles ? `<link rel="stylesheet" href="${styles}" />` : '', `<script type="module" src="${script}"></script>`, ...preload.map((href) => `<link rel="modulepreload" href="${href}" />`)]
  .filter(Boolean)
  .join('\n    ');
const html = readFileSync(join(source, 'index.html'), 'utf8').replace('<!-- styles and scripts -->', tags);
writeFileSync(join(out, 'index.html'), html);
// What the first visit loads (bench/console-size.mjs measures it).
const firstLoad = ['/index.html', ...[...closure(main)].map(url), ...(styles ? [styles] : []), ...preload];
writeFileSync(join(out, 'first-load.json'), `${JSON.stringify(firstLoad, null, 2)}\n`);
console.log(`console: ${Object.keys(outputs).length} files in ${relative(root, out)} (entry ${basename(script)})`);
