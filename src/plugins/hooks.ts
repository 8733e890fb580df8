// Module resolution hooks, registered (node:module register) before the
// plugins of config.yml are imported: `import … from 'paasmaker/plugin'` in a
// plugin resolves to the Paasmaker that loads it, wherever the plugin lives
// and whatever copy of paasmaker its own node_modules may hold.

let entry = '';

export function initialize(data: { entry: string }): void {
  entry = data.entry;
}

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'paasmaker/plugin') return { url: entry, shortCircuit: true };
  return next(specifier, context);
}
