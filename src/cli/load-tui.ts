import { createRequire } from 'node:module';

/**
 * The terminal UI's modules, loaded with React's production build: React and
 * its reconciler pick their build by NODE_ENV when first loaded, and the
 * development one (checks, render logging) costs `up` a third of its CPU
 * time under traffic. NODE_ENV is production only while the modules load,
 * whatever the user set it to (that is for their apps, not for this UI; the
 * bundle holds no other build), so the apps `up` starts afterwards inherit
 * the user's own. ink draws its frames with src/ui/ink-output.ts's lighter composer.
 */
export async function loadTui(): Promise<typeof import('../ui/index.js')> {
  try {
    return await loadWithProductionReact();
  } finally {
    forgetUnusedBuilds();
  }
}

async function loadWithProductionReact(): Promise<typeof import('../ui/index.js')> {
  const before = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    const { useLighterFrames } = await import('../ui/ink-output.js');
    await useLighterFrames();
    return await import('../ui/index.js');
  } finally {
    if (before === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = before;
  }
}

/**
 * ink imports React's CommonJS entry points from ESM, so Node reads the files
 * each one may re-export to list their names: the development builds too,
 * which never run but stay in require's cache with their source (react-reconciler's
 * alone is 0.7 MB) for as long as `up` runs. Entries that never loaded go.
 * (The bundle, dist/daemon, holds no development builds: this is for `up`
 * run from dist/src.)
 */
function forgetUnusedBuilds(): void {
  const cache = createRequire(import.meta.url).cache;
  for (const [file, module] of Object.entries(cache)) if (module && !module.loaded && file.endsWith('.development.js')) delete cache[file];
}
