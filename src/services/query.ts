import { PaasmakerError } from '../shared/errors.js';
import type { QueryRequest } from './types.js';

/** The longest text a cell keeps; the rest is cut with a note of how much was left out. */
export const CELL_LIMIT = 2000;

/**
 * The most bytes a query reads, over all its rows: past it the reading
 * stops (the query is cancelled) and the result says it was cut, so a few
 * huge cells cannot fill the daemon's memory.
 */
export const BYTE_BUDGET = 10 * 1024 * 1024;

/** Roughly how many bytes a value read from a database takes. */
export function sizeOf(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'string') return value.length;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, each) => sum + sizeOf(each), 1);
  if (typeof value === 'object' && !(value instanceof Date)) return JSON.stringify(value, (_key, each: unknown) => (typeof each === 'bigint' ? each.toString() : each)).length;
  return 8;
}

/** A text cut to CELL_LIMIT characters, saying how many were left out. */
function cut(text: string): string {
  return text.length > CELL_LIMIT ? `${text.slice(0, CELL_LIMIT)}… (${text.length - CELL_LIMIT} more characters)` : text;
}

/**
 * A value read from a database, made safe for JSON and small: bigints as
 * strings, bytes as "\x<hex>" (PostgreSQL's own spelling of bytea), dates as
 * ISO text, objects (json columns) kept when short and as JSON text when
 * long, every long text cut to CELL_LIMIT characters.
 */
export function jsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return cut(value);
  if (typeof value === 'boolean') return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    const bytes = Buffer.from(value);
    const shown = bytes.subarray(0, CELL_LIMIT / 2);
    return `\\x${shown.toString('hex')}${bytes.length > shown.length ? `… (${bytes.length} bytes)` : ''}`;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (Array.isArray(value)) {
    const items = value.map(jsonSafe);
    return JSON.stringify(items).length > CELL_LIMIT ? cut(JSON.stringify(items)) : items;
  }
  if (typeof value === 'object') {
    const text = JSON.stringify(value, (_key, each: unknown) => (typeof each === 'bigint' ? each.toString() : each));
    return text.length > CELL_LIMIT ? cut(text) : JSON.parse(text);
  }
  return cut(String(value));
}

/** The query's text without the semicolons and blanks at its end ("SELECT 1;" is one statement), refused when empty. */
export function queryText(query: QueryRequest): string {
  const text = query.text.replace(/[\s;]+$/, '').trim();
  if (!text) throw new PaasmakerError('USAGE', 'the query is empty', { hint: 'send one statement: SELECT * FROM users LIMIT 10' });
  return text;
}

/** The first words of a statement, for a message: "DROP TABLE", "INSERT INTO". */
export function statementHead(text: string): string {
  const words = text.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '').split(/\s+/).slice(0, 2).join(' ');
  return words.length > 40 ? `${words.slice(0, 40)}…` : words;
}

/** READ_ONLY: the database refused a write, in its own words. */
export function readOnlyError(what: string, text: string, words: string): PaasmakerError {
  return new PaasmakerError('READ_ONLY', `${what} refused "${statementHead(text)}": ${words}; nothing was changed`);
}

/** QUERY_FAILED: the database's own words for why it would not run the query. */
export function queryFailed(what: string, words: string, hint?: string): PaasmakerError {
  return new PaasmakerError('QUERY_FAILED', `${what}: ${words}`, hint ? { hint } : {});
}

/** QUERY_FAILED for a query stopped at its time limit. */
export function queryTimedOut(what: string, timeoutMs: number): PaasmakerError {
  return new PaasmakerError('QUERY_FAILED', `${what}: the query ran past its time limit of ${timeoutMs} ms and was cancelled`, {
    hint: 'ask for fewer rows (a WHERE, a LIMIT), or allow it longer (--timeout / timeout_ms, 30 s at most)',
  });
}

/** The hint for a text with more than one statement. */
export const ONE_STATEMENT = 'send one statement at a time (the query runs alone, in a read-only transaction)';
