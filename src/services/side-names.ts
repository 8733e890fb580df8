import { randomBytes } from 'node:crypto';
import { assertSafe } from './names.js';

/**
 * What a restore makes beside a service's data, named one way for every
 * plugin so that what a crash left behind is found again, and only that:
 * `<name>__new_<tag>` (the copy being filled) and `<name>__old_<tag>` (the
 * data being replaced), `<tag>` eight hex digits. A database name longer than
 * the server allows is cut at the front part (`<stem>`).
 */
export const SIDE_SUFFIX = '__new_'.length + 8;

export const sideTag = (): string => randomBytes(4).toString('hex');

/** The stem of a side name: the service's name cut to leave room for the suffix. */
const stem = (name: string, max: number): string => name.slice(0, max - SIDE_SUFFIX);

/** Names beside the service's database for a restore's fresh copy and the old data: at most `max` bytes, unique. */
export function sideNames(name: string, max: number): { fresh: string; old: string } {
  const tag = sideTag();
  return { fresh: assertSafe(`${stem(name, max)}__new_${tag}`), old: assertSafe(`${stem(name, max)}__old_${tag}`) };
}

/** Whether `candidate` is exactly a side name of `name`'s, and which. */
export function sideNameOf(candidate: string, name: string, max: number): { kind: 'new' | 'old'; tag: string } | undefined {
  const prefix = stem(name, max);
  if (!candidate.startsWith(prefix)) return undefined;
  const match = /^__(new|old)_([0-9a-f]{8})$/.exec(candidate.slice(prefix.length));
  return match ? { kind: match[1] as 'new' | 'old', tag: match[2]! } : undefined;
}

/** Side names a restore of this process is using now: never swept. */
export const busySideNames = new Set<string>();
