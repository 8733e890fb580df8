// Bundles the compiled platform (dist/src) with esbuild into a folder laid out
// like dist/src: one file per entry below, the code they share in chunks/, a
// chunk of its own at each dynamic import. Used by scripts/build-exe.mjs (the
// single executable's payload) and scripts/build-daemon.mjs (dist/daemon, what
// `daemon start` runs).
import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { build } from 'esbuild';

/**
 * The entries of a bundle: the CLI (the daemon runs through it), what plugins
 * import as 'paasmaker/plugin', and every script the code starts from a URL
 * (module hooks, workers), which must be files of the bundle too.
 */
export const PLATFORM_ENTRIES = ['cli/main.js', 'plugin/index.js', 'plugins/hooks.js', 'manifest/read-worker.js', 'tls/signing-worker.js'];

// Paasmaker finds its workers, console and package.json from import.meta.url.
// Bundled, every module shares its output file's URL; so each module's
// import.meta.url becomes its own place in the tree: its path under dist/src
// resolved against the output folder's URL, which every output file computes
// from its own URL (all sit under that folder). The output folder sits where
// dist/src sits (dist/daemon beside it, or dist/src of the executable's
// tree), so a path that climbs out of dist/src (../../console/, the package's
// package.json, ../runtimes/) lands on the same file.
const BASE = '__paasmakerBundleBase';

/**
 * Builds the bundle. `outdir` must end with `marker` (its path below the tree's
 * root, 'dist/src' or 'dist/daemon'). `sqlite`: 'beside' loads better-sqlite3's
 * addon from better_sqlite3.node at the tree's root (the executable copies it
 * there); 'external' leaves better-sqlite3 to Node's resolution from
 * node_modules, as the unbundled code does. Resolves with esbuild's metafile.
 */
export async function bundlePlatform({ root, outdir, marker, sqlite, sourcemap = false }) {
  const src = join(root, 'dist', 'src');
  const entries = PLATFORM_ENTRIES.map((file) => join(src, file));
  const byUrl = new Set();
  const ownUrl = {
    name: 'own-url',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/](src|runtimes)[\\/].*\.js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const path = relative(src, args.path).split(sep).join('/');
        // A script started from a URL (a worker, module hooks) must be an entry of its own.
        for (const [, , script] of text.matchAll(/new URL\((['"])(\.{1,2}\/[^'"]+\.js)\1, import\.meta\.url\)/g)) byUrl.add(join(dirname(args.path), script));
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(path)}, ${BASE}).href`), loader: 'js', resolveDir: dirname(args.path) };
      });
      if (sqlite !== 'beside') return;
      // better-sqlite3 finds its addon through `bindings` (which searches beside
      // the package): here it is the copy at the root of the tree.
      b.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'bundle-addon' }));
      b.onLoad({ filter: /.*/, namespace: 'bundle-addon' }, () => ({
        contents: `const { fileURLToPath } = require('node:url');
module.exports = function bindings() {
  const module = { exports: {} };
  process.dlopen(module, fileURLToPath(new URL('../../better_sqlite3.node', ${BASE})));
  return module.exports;
};`,
        loader: 'js',
      }));
    },
  };
  // src/ui/ink-internals.js becomes imports of the files of the ink that is bundled (the same
  // modules ink itself imports), so src/ui/ink-output.ts's frame code reaches them; React's
  // development builds, which src/cli/load-tui.ts never loads, are left out.
  const inkFiles = {
    name: 'ink-files',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/]src[\\/]ui[\\/]ink-internals\.js$/ }, async () => {
        const resolved = await b.resolve('ink', { kind: 'import-statement', resolveDir: root });
        if (resolved.errors.length > 0) throw new Error(`ink: ${resolved.errors[0].text}`);
        const build = dirname(resolved.path);
        const { version } = JSON.parse(readFileSync(join(build, '..', 'package.json'), 'utf8'));
        return {
          contents: `import Output from ${JSON.stringify(join(build, 'output.js'))};
import measureText from ${JSON.stringify(join(build, 'measure-text.js'))};
export async function inkInternals() { return { version: ${JSON.stringify(version)}, Output, measureText }; }`,
          loader: 'js',
          resolveDir: build,
        };
      });
      b.onLoad({ filter: /[\\/](react|react-reconciler|scheduler)[\\/]cjs[\\/][^\\/]+\.development\.js$/ }, () => ({
        contents: `throw new Error('the terminal UI runs the production build of React');`,
        loader: 'js',
      }));
    },
  };
  // zod's namespace carries every locale's messages (`z.locales`, about 270 KB of the 470 KB of zod
  // the daemon loads, kept as source text in its heap); Paasmaker speaks English and never calls
  // `z.config`, so the bundle keeps English only. The messages a schema gives stay the same.
  const zodEnglish = {
    name: 'zod-english',
    setup(b) {
      b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
        contents: `export { default as en } from './en.js';`,
        loader: 'js',
        resolveDir: dirname(args.path),
      }));
    },
  };
  const [major, minor] = process.versions.node.split('.').map(Number);
  const result = await build({
    entryPoints: entries,
    outbase: src,
    outdir,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // ESM builds first: a CommonJS one bundled into ESM can lose named exports (@peculiar/x509's cryptoProvider).
    mainFields: ['module', 'main'],
    target: `node${major}.${minor}`,
    minify: true,
    // Some dependencies compare class names (asn1js's 'Sequence', zod's and commander's errors).
    keepNames: true,
    legalComments: 'none',
    metafile: true,
    sourcemap,
    // A stack trace needs the mappings, not the sources (src/ is beside dist/ in a checkout).
    sourcesContent: false,
    // Optional peers the code never reaches here (ink's devtools hook).
    external: ['react-devtools-core', ...(sqlite === 'external' ? ['better-sqlite3'] : [])],
    banner: {
      js: [
        `import { createRequire as __paasmakerCreateRequire } from 'node:module';`,
        `const require = __paasmakerCreateRequire(import.meta.url);`,
        `const ${BASE} = import.meta.url.slice(0, import.meta.url.lastIndexOf(${JSON.stringify(`/${marker}/`)}) + ${marker.length + 2});`,
      ].join(''),
    },
    plugins: [inkFiles, ownUrl, zodEnglish],
    logLevel: 'warning',
  });
  const missing = [...byUrl].filter((script) => !entries.includes(script));
  if (missing.length > 0) {
    throw new Error(`the code starts ${missing.map((script) => relative(root, script)).join(', ')} from its URL, but the bundle has no such file (add it to PLATFORM_ENTRIES in scripts/bundle.mjs)`);
  }
  return result.metafile;
}
