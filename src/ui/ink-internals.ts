import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The parts of ink that src/ui/ink-output.ts replaces or bounds: not exported by ink, so reached by file. */
export interface InkInternals {
  /** The ink release they come from. */
  version: string;
  /** build/output.js: the class whose `get` composes a frame. */
  Output: { prototype: { get(): unknown } };
  /** build/measure-text.js: the function that keeps every text's size. */
  measureText: (text: string) => unknown;
}

/**
 * ink's internals from the ink that `import 'ink'` loads here. A bundle
 * (scripts/bundle.mjs) puts a module of its own in this one's place, which
 * imports the same files of the ink it bundles.
 */
export async function inkInternals(): Promise<InkInternals> {
  const index = import.meta.resolve('ink');
  const { version } = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', index)), 'utf8')) as { version: string };
  const [{ default: Output }, { default: measureText }] = await Promise.all([import(new URL('output.js', index).href), import(new URL('measure-text.js', index).href)]);
  return { version, Output, measureText };
}
