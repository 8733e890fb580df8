import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import { manifestError } from './positions.js';

/** How deep maps and lists may nest: far beyond any manifest, far below the stack. */
export const MAX_DEPTH = 64;
/** How many values aliases may repeat in all: room for shared blocks, none for an alias bomb. */
export const MAX_ALIASED_VALUES = 10_000;

interface Anchor {
  node: Node;
  /** Unset while the anchored node is still being read: an alias to it would contain itself. */
  value?: unknown;
  size: number;
}

/**
 * Turns a YAML document into plain values in one pass over its nodes: the
 * same values as the yaml library's toJS, but every limit it would hit as a
 * bug (alias bombs, aliases that contain themselves, keys that are maps) is a
 * positioned error here, and duplicate keys are found with one Set per map
 * rather than by comparing every pair with every other.
 */
export function plainValues(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  text: string,
  error: (position: { line: number; col: number }, message: string, hint?: string) => Error = (position, message, hint) => manifestError(file, text, position, message, hint),
): unknown {
  const anchors = new Map<string, Anchor>();
  let aliased = 0;

  const fail = (node: { range?: readonly number[] | null } | null | undefined, message: string, hint?: string): never => {
    const { line, col } = lineCounter.linePos(node?.range?.[0] ?? 0);
    throw error({ line, col }, message, hint);
  };

  /** The value of a node and how many values it stands for once aliases are followed. */
  const read = (node: unknown, depth: number): { value: unknown; size: number } => {
    if (node === null || node === undefined) return { value: null, size: 1 };
    if (depth > MAX_DEPTH) fail(node as Node, `maps and lists nest more than ${MAX_DEPTH} levels deep here`, 'a manifest needs only a few levels; flatten this value');
    if (isAlias(node)) {
      const anchor = anchors.get(node.source);
      if (!anchor) return fail(node, `alias *${node.source} refers to no anchor (&${node.source}) above it`, 'define the anchor before its first use');
      if (anchor.value === undefined) return fail(node, `alias *${node.source} is inside the value it refers to`, 'an alias cannot contain itself; write the value out instead');
      aliased += anchor.size;
      if (aliased > MAX_ALIASED_VALUES) {
        fail(node, `aliases repeat more than ${MAX_ALIASED_VALUES.toLocaleString('en-US')} values in this file (an alias bomb?)`, 'use fewer aliases, or write the values out');
      }
      return { value: anchor.value, size: anchor.size };
    }
    const anchorName = (node as Node).anchor;
    const anchor: Anchor | undefined = anchorName ? { node: node as Node, size: 0 } : undefined;
    if (anchor) anchors.set(anchorName!, anchor);
    const result = readNode(node, depth);
    if (anchor) Object.assign(anchor, result);
    return result;
  };

  const readNode = (node: unknown, depth: number): { value: unknown; size: number } => {
    if (isScalar(node)) return { value: scalarValue(node.value, node), size: 1 };
    if (isMap(node)) {
      return readPairs(node.items, depth);
    }
    if (isSeq(node)) {
      const list: unknown[] = [];
      let size = 1;
      for (const item of node.items) {
        // `[a: 1]` is a list holding the one-entry map {a: 1}.
        const entry = isPair(item) ? readPairs([item], depth + 1) : read(item, depth + 1);
        list.push(entry.value);
        size += entry.size;
      }
      return { value: list, size };
    }
    return fail(node as Node, 'this YAML value is not supported in a manifest');
  };

  const readPairs = (pairs: readonly Pair[], depth: number): { value: unknown; size: number } => {
    const object: Record<string, unknown> = {};
    const keys = new Set<string>();
    let size = 1;
    for (const pair of pairs) {
      const key = keyOf(pair);
      if (keys.has(key)) fail(pair.key as Node, 'duplicate key: this key is already set above in the same map', 'remove one of the two, or merge them');
      keys.add(key);
      const entry = read(pair.value, depth + 1);
      assign(object, key, entry.value);
      size += 1 + entry.size;
    }
    return { value: object, size };
  };

  const keyOf = (pair: Pair): string => {
    const key = pair.key as Node | null;
    if (key === null) return '';
    if (!isScalar(key)) return fail(key, 'a key must be a plain word, not a list, a map or an alias', 'write the key as text, e.g.  name: value');
    const value = scalarValue(key.value, key);
    if (key.anchor) anchors.set(key.anchor, { node: key, value, size: 1 });
    return value === null ? '' : String(value);
  };

  const scalarValue = (value: unknown, node: Node): unknown => {
    if (typeof value === 'string') {
      if (value.includes('\0')) fail(node, 'this text holds a NUL character (\\0), which no command, path or variable can carry', 'remove the \\0');
      return value;
    }
    if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
    return fail(node, `this YAML value (${value instanceof Date ? 'a timestamp' : value instanceof Uint8Array ? 'binary data' : typeof value}) is not supported in a manifest`, 'quote it to make it text');
  };

  return read(doc.contents, 0).value;
}

/** Sets a key as its own property, "__proto__" included. */
function assign(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}
