import { createRequire } from 'node:module';

/**
 * The terminal UI's modules, loaded with React's production build: React and
 * its reconciler pick their build by NODE_ENV when first loaded, and the
 * development one (checks, render logging) costs `up` a third of its CPU
 * time under traffic. NODE_ENV is set only while the modules load, and only
 * when nobody set it, so the apps `up` starts afterwards never inherit it.
 * ink draws its frames with src/ui/ink-output.ts's lighter composer.
 */
export async function loadTui(): Promise<typeof import('../ui/index.js')> {
  try {
    return await loadWithProductionReact();
  } finally {
    forgetUnusedBuilds();
  }
}

async function loadWithProductionReact(): Promise<typeof import('../ui/index.js')> {
  const unset = process.env.NODE_ENV === undefined;
  if (unset) process.env.NODE_ENV = 'production';
  try {
    const { useLighterFrames } = await import('../ui/ink-output.js');
    await useLighterFrames();
    return await import('../ui/index.js');
  } finally {
    if (unset) delete process.env.NODE_ENV;
  }
}

/**
 * ink imports React's CommonJS entry points from ESM, so Node reads the files
 * each one may re-export to list their names: the development builds too,
 * which never run but stay in require's cache with their source (react-reconciler's
 * alone is 0.7 MB) for as long as `up` runs. Entries that never loaded go.
 */
function forgetUnusedBuilds(): void {
  const cache = createRequire(import.meta.url).cache;
  for (const [file, module] of Object.entries(cache)) if (module && !module.loaded && file.endsWith('.development.js')) delete cache[file];
}
