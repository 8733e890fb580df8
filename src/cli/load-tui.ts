/**
 * The terminal UI's modules, loaded with React's production build: React and
 * its reconciler pick their build by NODE_ENV when first loaded, and the
 * development one (checks, render logging) costs `up` a third of its CPU
 * time under traffic. NODE_ENV is set only while the modules load, and only
 * when nobody set it, so the apps `up` starts afterwards never inherit it.
 * ink draws its frames with src/ui/ink-output.ts's lighter composer.
 */
export async function loadTui(): Promise<typeof import('../ui/index.js')> {
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
