import type { z } from 'zod';
import { ALLOWED_KEYS } from './schema.js';
import { didYouMean, type Path, type PositionFinder } from './positions.js';
import type { SourcePosition } from './types.js';

export interface Problem {
  position: SourcePosition;
  message: string;
  hint?: string;
  /** A required key is absent: often the echo of a misspelt one, so it yields to other problems. */
  missing?: boolean;
}

/** A dotted label for a path: instances.web.health.path, crons[0]. */
export function label(path: Path): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part), '');
}

function valueAt(data: unknown, path: Path): unknown {
  let current = data;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

/** Which set of allowed keys applies to the map at this path. */
function allowedFor(path: Path): readonly string[] {
  if (path.length === 0) return ALLOWED_KEYS['']!;
  if (path.length === 1 && path[0] === 'application') return ALLOWED_KEYS.application!;
  if (path[0] === 'instances') {
    if (path.length === 2) return ALLOWED_KEYS.instance!;
    const field = path[2];
    if (field === 'crons') return ALLOWED_KEYS.cron!;
    if (typeof field === 'string' && ALLOWED_KEYS[field]) return ALLOWED_KEYS[field]!;
  }
  return [];
}

/**
 * Turns zod's issues into positioned problems, the first one (by position) first.
 * `keys` names the keys a map takes when the schema is not the manifest's own (a runtime's options).
 */
export function problemsFrom(issues: readonly z.core.$ZodIssue[], data: unknown, where: PositionFinder, prefix: Path = [], keys?: (path: Path) => readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      const allowed = keys ? keys(path) : allowedFor(path);
      for (const key of issue.keys) {
        const suggestion = didYouMean(key, allowed);
        const container = path.length === 0 ? 'the manifest' : label(path);
        problems.push({
          position: where.childKey(path, key),
          message: `unknown key "${key}" in ${container}${suggestion ? ` — did you mean "${suggestion}"?` : ''}`,
          hint: allowed.length > 0 ? `${container} takes: ${allowed.join(', ')}` : undefined,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A record's key failed its own check (an environment variable's name): point at the key.
      const parent = path.slice(0, -1);
      problems.push({
        position: where.key(path),
        message: `${label(parent)} key ${describe(String(path[path.length - 1]))} ${issue.issues[0]?.message ?? 'is not allowed'}`,
      });
      continue;
    }
    if (issue.code === 'invalid_union') {
      // Report the branch that matched the value's type, if one did: one that got past the value itself first.
      const branch =
        issue.errors.find((branchIssues) => branchIssues.some((inner) => inner.path.length > 0)) ??
        issue.errors.find((branchIssues) => !branchIssues.every((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
      if (branch && branch.length > 0 && !branch.every((inner) => inner.path.length === 0 && inner.code !== 'unrecognized_keys')) {
        problems.push(...problemsFrom(branch, data, where, path, keys));
        continue;
      }
    }
    const value = valueAt(data, path);
    if (value === undefined) {
      const parent = path.slice(0, -1);
      problems.push({
        position: where.key(parent.length > 0 ? parent : path),
        message: `${parent.length > 0 ? label(parent) : 'the manifest'} needs "${path[path.length - 1]}"`,
        hint: `add "${path[path.length - 1]}:" ${parent.length > 0 ? `under ${label(parent)}` : 'at the top level'}`,
        missing: true,
      });
      continue;
    }
    const hint = issue.code === 'custom' ? (issue.params as { hint?: string } | undefined)?.hint : undefined;
    problems.push({
      position: where.value(path),
      message: `${label(path) || 'the manifest'} ${issue.message} (got ${describe(value)})${guess(issue, value)}`,
      hint,
    });
  }
  return problems;
}

/** " — did you mean "python"?" when a string value is a near miss of a word the schema lists (an enum, alone or in a union). */
function guess(issue: z.core.$ZodIssue, value: unknown): string {
  if (typeof value !== 'string') return '';
  const listed = issue.code === 'invalid_value' ? [issue] : issue.code === 'invalid_union' ? issue.errors.flat().filter((inner) => inner.path.length === 0) : [];
  const words = listed.flatMap((inner) => (inner.code === 'invalid_value' ? inner.values.filter((word): word is string => typeof word === 'string') : []));
  const suggestion = didYouMean(value, words);
  return suggestion ? ` — did you mean "${suggestion}"?` : '';
}

export function firstProblem(problems: Problem[]): Problem | undefined {
  return [...problems].sort(
    (a, b) => Number(a.missing ?? false) - Number(b.missing ?? false) || a.position.line - b.position.line || a.position.col - b.position.col,
  )[0];
}
