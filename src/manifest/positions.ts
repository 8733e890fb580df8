import { isAbsolute, relative } from 'node:path';
import { isMap, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import { PaasmakerError } from '../shared/errors.js';
import type { SourcePosition } from './types.js';

export type Path = ReadonlyArray<string | number>;

/** The file as the user should read it: relative to where they stand, when inside it. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** A vite/babel-style frame: two lines before, the line, and a caret under the column. */
export function codeFrame(text: string, line: number, col: number): string {
  const lines = text.split(/\r?\n/);
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const marker = n === line ? '>' : ' ';
    out.push(`${marker} ${String(n).padStart(width)} | ${(lines[n - 1] ?? '').replace(/\t/g, '→')}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, col - 1))}^`);
  }
  return out.join('\n');
}

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
    const map = path.length === 0 ? this.doc.contents : this.node(path);
    if (isMap(map)) {
      const pair = map.items.find((item) => (item.key as { value?: unknown } | null)?.value === name);
      const range = (pair?.key as Node | null)?.range;
      if (range) return this.at(range[0]);
    }
    return this.key(path);
  }

  private node(path: Path): Node | undefined {
    if (path.length === 0) return (this.doc.contents as Node | null) ?? undefined;
    const found = this.doc.getIn(path as (string | number)[], true);
    return found && typeof found === 'object' && 'range' in found ? (found as Node) : undefined;
  }

  private pair(path: Path): Pair | undefined {
    const parent = path.length === 1 ? this.doc.contents : this.node(path.slice(0, -1));
    const last = path[path.length - 1];
    if (isMap(parent)) return parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === last) as Pair | undefined;
    if (isSeq(parent)) return undefined;
    return undefined;
  }
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
