import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { manifestError, PositionFinder } from './positions.js';
import { plainValues } from './yaml-values.js';

export interface YamlSource {
  data: Record<string, unknown>;
  where: PositionFinder;
  text: string;
}

const MINIMAL = 'application:\n  name: my-app\ninstances:\n  web:\n    command: node server.js';

/** Parses YAML keeping positions; syntax errors, duplicate keys, tabs and empty files become positioned errors. */
export function readYaml(text: string, file: string): YamlSource {
  if (text.trim() === '' || text.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('#'))) {
    throw manifestError(file, text, { line: 1, col: 1 }, 'the file is empty', `a minimal manifest:\n${MINIMAL.replace(/^/gm, '  ')}`);
  }
  const lineCounter = new LineCounter();
  // Duplicate keys are found by plainValues, one Set per map: the library compares every pair with every other.
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, merge: false });
  } catch (error) {
    // The library reports what it finds in doc.errors; anything thrown is a limit it hit on this text.
    throw manifestError(file, text, { line: 1, col: 1 }, `this YAML could not be read: ${(error as Error).message}`, 'simplify the file, or check it with a YAML linter');
  }
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    const { message, hint } = explainYamlError(error.code, error.message);
    throw manifestError(file, text, { line, col }, message, hint);
  }
  if (!isMap(doc.contents)) {
    throw manifestError(file, text, { line: 1, col: 1 }, 'the manifest must be a map of keys (application:, instances:, …)', `a minimal manifest:\n${MINIMAL.replace(/^/gm, '  ')}`);
  }
  return { data: plainValues(doc, lineCounter, file, text) as Record<string, unknown>, where: new PositionFinder(doc, lineCounter, file), text };
}

function explainYamlError(code: string, raw: string): { message: string; hint?: string } {
  const first = raw.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  switch (code) {
    case 'DUPLICATE_KEY':
      return { message: 'duplicate key: this key is already set above in the same map', hint: 'remove one of the two, or merge them' };
    case 'RESOURCE_EXHAUSTION':
      return { message: 'maps and lists nest too deeply here for Paasmaker to read', hint: 'a manifest needs only a few levels; flatten this value' };
    case 'TAB_AS_INDENT':
      return { message: 'tabs are not allowed for indentation; use spaces', hint: 'indent with two spaces per level' };
    default:
      return { message: `YAML syntax error: ${first.charAt(0).toLowerCase()}${first.slice(1)}`, hint: 'check the indentation and quoting around this spot' };
  }
}
