/**
 * A lighter frame for ink. Each frame, ink lays the whole screen out as one
 * cell per character: it splits every written line into graphemes with
 * Intl.Segmenter, gives every character a fresh object and a fresh copy of
 * its styles, then diffs the styles of each neighbouring pair back into
 * escape codes. Under a log flood that is most of `up`'s CPU and megabytes of
 * short-lived objects a frame, which outlive the young generation and fill
 * the old one.
 *
 * `composeFrame` builds the same text, character for character, with shared
 * cells: a line that is printable ASCII and SGR escapes (what the terminal UI
 * writes) takes its cells from a table per style, made once; a blank cell is
 * one object; neighbours with the same style are not diffed. Any other line
 * (wide characters, links, other escapes) goes through ink's own tokenizer, as
 * before, and its cells are kept for the next frames. `useLighterFrames` puts
 * it in place of ink's `Output.get`, for the ink release whose internals it
 * matches; test/ui/ink-output.spec.tsx checks its text against ink's own on
 * random frames. It also keeps ink's cache of text sizes, which ink never
 * empties, to a few screens' texts.
 */
import { ansiCodesToString, diffAnsiCodes, reduceAnsiCodesIncremental, tokenize } from '@alcalzone/ansi-tokenize';
import sliceAnsi from 'slice-ansi';
import { inkInternals } from './ink-internals.js';

type AnsiCode = { type: 'ansi'; code: string; endCode: string };
type Cell = { type: 'char'; value: string; fullWidth: boolean; styles: AnsiCode[] };
type Clip = { x1?: number; x2?: number; y1?: number; y2?: number };
type Operation = { type: 'write'; x: number; y: number; text: string; transformers: Array<(line: string, index: number) => string> } | { type: 'clip'; clip: Clip } | { type: 'unclip' };
/** The part of ink's Output (build/output.js) a frame is made from. */
export type InkOutput = {
  width: number;
  height: number;
  operations: Operation[];
  caches: { getStringWidth(text: string): number; getWidestLine(text: string): number; getStyledChars(line: string): Cell[] };
};

const EMPTY: AnsiCode[] = [];
/** Styles by their codes, so equal styles are one array (compared by reference) with one cell table. */
const styles = new Map<string, { codes: AnsiCode[]; cells: Cell[] }>();
/** The codes of each SGR sequence seen, as ink's tokenizer splits them. */
const sequences = new Map<string, AnsiCode[]>();
/** The cells of other lines (box borders, wide characters), from frame to frame: the header and the table seldom change. */
const otherLines = new Map<string, Cell[]>();
/** Kept small: a program that writes ever new colours (24-bit gradients) or lines starts the tables afresh. */
const TABLE_LIMIT = 512;

function styleEntry(codes: AnsiCode[]): { codes: AnsiCode[]; cells: Cell[] } {
  let key = '';
  for (const code of codes) key += `${code.code}\0`;
  let entry = styles.get(key);
  if (!entry) {
    if (styles.size >= TABLE_LIMIT) styles.clear();
    const shared = codes.length === 0 ? EMPTY : codes;
    const cells: Cell[] = [];
    for (let c = 0; c < 128; c++) cells.push(Object.freeze({ type: 'char', value: String.fromCharCode(c), fullWidth: false, styles: shared }) as Cell);
    entry = { codes: shared, cells };
    styles.set(key, entry);
  }
  return entry;
}

/** Unstyled text: where every line starts, and its space is the blank cell. Kept here, so a line does not look it up again. */
const PLAIN = styleEntry(EMPTY);
const BLANK = PLAIN.cells[32]!;

function sequenceCodes(sequence: string): AnsiCode[] {
  let codes = sequences.get(sequence);
  if (!codes) {
    if (sequences.size >= TABLE_LIMIT) sequences.clear();
    codes = tokenize(sequence) as AnsiCode[];
    sequences.set(sequence, codes);
  }
  return codes;
}

/**
 * The cells of a line of printable ASCII and SGR sequences (`ESC [ digits;… m`),
 * or undefined for any other line. Every cell is shared and frozen.
 */
function asciiCells(line: string): Cell[] | undefined {
  const cells: Cell[] = [];
  let entry = PLAIN;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 27) {
      if (line.charCodeAt(i + 1) !== 91) return undefined;
      let end = i + 2;
      for (; end < line.length; end++) {
        const d = line.charCodeAt(end);
        if (d !== 59 && (d < 48 || d > 57)) break;
      }
      if (line.charCodeAt(end) !== 109) return undefined;
      entry = styleEntry(reduceAnsiCodesIncremental(entry.codes, sequenceCodes(line.slice(i, end + 1))) as AnsiCode[]);
      i = end;
    } else if (c >= 32 && c < 127) {
      cells.push(entry.cells[c]!);
    } else {
      return undefined;
    }
  }
  return cells;
}

/** The escape codes between two styles, by the styles' arrays: a row's runs change style in few ways, a frame's rows in the same ones. */
const transitions = new WeakMap<AnsiCode[], WeakMap<AnsiCode[], string>>();

function transition(from: AnsiCode[], to: AnsiCode[]): string {
  let byTarget = transitions.get(from);
  if (!byTarget) transitions.set(from, (byTarget = new WeakMap()));
  let codes = byTarget.get(to);
  if (codes === undefined) {
    codes = from === EMPTY ? ansiCodesToString(to) : ansiCodesToString(diffAnsiCodes(from, to));
    byTarget.set(to, codes);
  }
  return codes;
}

/**
 * A row's text: the cells' values with the escape codes between differing
 * styles, as ink's styledCharsToString writes it. The pieces are joined once
 * (a string grown a character at a time is a chain of hundreds of pieces a row).
 */
function rowText(row: Array<Cell | undefined>): string {
  const parts: string[] = [];
  let previous: AnsiCode[] | undefined;
  for (const cell of row) {
    if (cell === undefined) continue;
    if (cell.styles !== previous) parts.push(transition(previous ?? EMPTY, cell.styles));
    parts.push(cell.value);
    previous = cell.styles;
  }
  if (previous !== undefined && previous.length > 0) parts.push(transition(previous, EMPTY));
  return parts.join('').trimEnd();
}

/** What ink's Output.get returns for the same operations, made with shared cells. */
export function composeFrame(output: InkOutput): { output: string; height: number } {
  const rows: Array<Array<Cell | undefined>> = [];
  for (let y = 0; y < output.height; y++) rows.push(new Array<Cell>(output.width).fill(BLANK));
  const clips: Clip[] = [];
  for (const operation of output.operations) {
    if (operation.type === 'clip') clips.push(operation.clip);
    if (operation.type === 'unclip') clips.pop();
    if (operation.type !== 'write') continue;
    const { text, transformers } = operation;
    let { x, y } = operation;
    let lines = text.split('\n');
    const clip = clips.at(-1);
    if (clip) {
      const clipHorizontally = typeof clip.x1 === 'number' && typeof clip.x2 === 'number';
      const clipVertically = typeof clip.y1 === 'number' && typeof clip.y2 === 'number';
      if (clipHorizontally) {
        const width = output.caches.getWidestLine(text);
        if (x + width < clip.x1! || x > clip.x2!) continue;
      }
      if (clipVertically && (y + lines.length < clip.y1! || y > clip.y2!)) continue;
      if (clipHorizontally) {
        lines = lines.map((line) => {
          const from = x < clip.x1! ? clip.x1! - x : 0;
          const width = output.caches.getStringWidth(line);
          const to = x + width > clip.x2! ? clip.x2! - x : width;
          return sliceAnsi(line, from, to);
        });
        if (x < clip.x1!) x = clip.x1!;
      }
      if (clipVertically) {
        const from = y < clip.y1! ? clip.y1! - y : 0;
        const to = y + lines.length > clip.y2! ? clip.y2! - y : lines.length;
        lines = lines.slice(from, to);
        if (y < clip.y1!) y = clip.y1!;
      }
    }
    let offsetY = 0;
    for (let index = 0; index < lines.length; index++) {
      const row = rows[y + offsetY];
      if (!row) continue;
      let line = lines[index]!;
      for (const transformer of transformers) line = transformer(line, index);
      const ascii = asciiCells(line);
      if (ascii) {
        for (let i = 0; i < ascii.length; i++) row[x + i] = ascii[i];
      } else {
        let cells = otherLines.get(line);
        if (!cells) {
          if (otherLines.size >= TABLE_LIMIT) otherLines.clear();
          cells = output.caches.getStyledChars(line);
          otherLines.set(line, cells);
        }
        let offsetX = x;
        for (const character of cells) {
          row[offsetX] = character;
          const width = Math.max(1, output.caches.getStringWidth(character.value));
          for (let fill = 1; fill < width; fill++) row[offsetX + fill] = { type: 'char', value: '', fullWidth: false, styles: character.styles };
          offsetX += width;
        }
      }
      offsetY++;
    }
  }
  return { output: rows.map(rowText).join('\n'), height: rows.length };
}

/** The ink release whose Output `composeFrame` follows. */
const MATCHED = /^6\.[0-9]+\./;

/**
 * ink's cache of text sizes (build/measure-text.js), by text: it keeps every
 * text it ever measured, and each log line shown is one, so under a stream of
 * lines it grows for as long as `up` runs (tens of megabytes an hour). ink
 * does not export it; `findMeasureCache` finds it, and each frame empties it
 * once it holds more than a few screens' texts.
 */
let measured: Map<string, unknown> | undefined;
const MEASURED_LIMIT = 2000;

/** How many texts ink's size cache holds now; undefined when it was not found. */
export function measuredTexts(): number | undefined {
  return measured?.size;
}

/**
 * The Map ink's measureText keeps its sizes in: the one its `set` is called on
 * with a text never measured before, while measureText measures it. Map's
 * `set` is itself again before this returns, and nothing else runs meanwhile.
 */
function findMeasureCache(measureText: (text: string) => unknown): Map<string, unknown> | undefined {
  const probe = `paasmaker measures ${process.pid} ${Date.now()}`;
  const set = Map.prototype.set;
  let found: Map<string, unknown> | undefined;
  Map.prototype.set = function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
    if (key === probe) found = this as Map<string, unknown>;
    return set.call(this, key, value);
  };
  try {
    measureText(probe);
  } finally {
    Map.prototype.set = set;
  }
  found?.delete(probe);
  return found;
}

/**
 * Puts `composeFrame` in place of ink's Output.get, when the installed ink is
 * a release it follows; otherwise ink stays as it is. True when it did.
 */
export async function useLighterFrames(): Promise<boolean> {
  try {
    const { version, Output, measureText } = await inkInternals();
    if (!MATCHED.test(version)) return false;
    if (typeof Output?.prototype?.get !== 'function') return false;
    try {
      if (typeof measureText === 'function') measured = findMeasureCache(measureText);
    } catch {
      // the frames are lighter all the same
    }
    Output.prototype.get = function (this: InkOutput) {
      if (measured !== undefined && measured.size > MEASURED_LIMIT) measured.clear();
      return composeFrame(this);
    };
    return true;
  } catch {
    return false;
  }
}
