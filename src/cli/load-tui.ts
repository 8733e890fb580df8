/**
 * The terminal UI's modules, loaded with React's production build: React and
 * its reconciler pick their build by NODE_ENV when first loaded, and the
 * development one (checks, render logging) costs `up` a third of its CPU
 * time under traffic. NODE_ENV is set only while the modules load, and only
 * when nobody set it, so the apps `up` starts afterwards never inherit it.
 */
export async function loadTui(): Promise<typeof import('../ui/index.js')> {
  const unset = process.env.NODE_ENV === undefined;
  if (unset) process.env.NODE_ENV = 'production';
  try {
    return await import('../ui/index.js');
  } finally {
    if (unset) delete process.env.NODE_ENV;
  }
}
