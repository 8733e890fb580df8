import { isAbsolute, relative } from 'node:path';
import { isMap, isNode, isPair, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import { PaasmakerError } from '../shared/errors.js';
import type { SourcePosition } from './types.js';

export type Path = ReadonlyArray<string | number>;

/** The file as the user should read it: relative to where they stand, when inside it. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** A vite/babel-style frame: two lines before, the line, and a caret under the column; long lines cut around it. */
export function codeFrame(text: string, line: number, col: number): string {
  const lines = text.split(/\r?\n/, line);
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line);
  const width = String(last).length;
  const start = Math.max(0, col - 1 - FRAME_WIDTH / 2);
  const cut = (row: string) => (start > 0 ? '…' : '') + row.slice(start, start + FRAME_WIDTH) + (row.length > start + FRAME_WIDTH ? '…' : '');
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const marker = n === line ? '>' : ' ';
    out.push(`${marker} ${String(n).padStart(width)} | ${cut(lines[n - 1] ?? '').replace(/\t/g, '→')}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, col - 1 - start + (start > 0 ? 1 : 0)))}^`);
  }
  return out.join('\n');
}

/** How much of a long line a frame shows. */
const FRAME_WIDTH = 120;

export function manifestError(file: string, text: string, position: { line: number; col: number }, message: string, hint?: string): PaasmakerError {
  return new PaasmakerError('MANIFEST_INVALID', `${displayPath(file)}:${position.line}:${position.col}: ${message}`, {
    detail: text.trim() === '' ? undefined : codeFrame(text, position.line, position.col),
    hint,
  });
}

/** Where a path points in a YAML document: its key (for a map entry) or its value. */
export class PositionFinder {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    readonly file: string,
  ) {}

  private readonly indexes = new WeakMap<YAMLMap, Map<string, Pair>>();

  at(offset: number): SourcePosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col };
  }

  /** The key of the entry at path (or the closest existing ancestor's key). */
  key(path: Path): SourcePosition {
    for (let depth = path.length; depth > 0; depth--) {
      const pair = this.pair(path.slice(0, depth));
      if (pair) return this.at(((pair.key as Node | null)?.range ?? (pair.value as Node | null)?.range ?? [0])[0]!);
      const item = this.node(path.slice(0, depth));
      if (item?.range) return this.at(item.range[0]);
    }
    return this.at(this.doc.contents?.range?.[0] ?? 0);
  }

  /** The value at path, else its key, else the closest ancestor. */
  value(path: Path): SourcePosition {
    const node = this.node(path);
    if (node?.range) return this.at(node.range[0]);
    return this.key(path);
  }

  /** A key named `name` inside the map at path. */
  childKey(path: Path, name: string): SourcePosition {
    const range = (this.entry(path.length === 0 ? this.doc.contents : this.node(path), name)?.key as Node | null)?.range;
    return range ? this.at(range[0]) : this.key(path);
  }

  private node(path: Path): Node | undefined {
    let current: unknown = this.doc.contents;
    for (const part of path) {
      if (isSeq(current) && typeof part === 'number') current = current.items[part];
      else current = this.entry(current, part)?.value;
    }
    return isNode(current) ? current : undefined;
  }

  private pair(path: Path): Pair | undefined {
    return this.entry(path.length === 1 ? this.doc.contents : this.node(path.slice(0, -1)), path[path.length - 1]!);
  }

  /** The entry of a map (or of a lone pair in a list) under a key, found through an index built once per map. */
  private entry(map: unknown, key: string | number): Pair | undefined {
    if (isPair(map)) return keyText(map) === String(key) ? map : undefined;
    if (!isMap(map)) return undefined;
    let entries = this.indexes.get(map);
    if (!entries) {
      entries = new Map();
      for (const pair of map.items) if (!entries.has(keyText(pair))) entries.set(keyText(pair), pair);
      this.indexes.set(map, entries);
    }
    return entries.get(String(key));
  }
}

/** A key as it reads in the plain values: its text ("" for an empty key). */
function keyText(pair: Pair): string {
  const value = (pair.key as { value?: unknown } | null)?.value;
  return value === null || value === undefined ? '' : String(value);
}

/** Closest allowed word by edit distance (≤ 2), or one that starts the same way. */
export function didYouMean(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best && bestDistance <= Math.max(2, Math.floor(word.length / 3))) return best;
  return allowed.find((candidate) => word.length >= 3 && candidate.startsWith(word.toLowerCase()));
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
