// PROVISIONAL: replaced by the full exporter (git URLs, refs, archives, dirty checks).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { SourceInfo, SourceSpec } from './deploy-types.js';

export async function exportSource(spec: SourceSpec, dest: string, options: { cwd?: string; signal?: AbortSignal; log?: (line: string) => void } = {}): Promise<SourceInfo & { size: number }> {
  if (spec.kind === 'upload') throw new Error('uploads not yet');
  const location = resolve(options.cwd ?? process.cwd(), spec.location);
  mkdirSync(dest, { recursive: true });
  if (existsSync(resolve(location, '.git'))) {
    const ref = spec.ref ?? 'HEAD';
    const commit = execFileSync('git', ['-C', location, 'rev-parse', ref], { encoding: 'utf8' }).trim();
    const tar = execFileSync('git', ['-C', location, 'archive', '--format=tar', commit]);
    execFileSync('tar', ['-x', '-C', dest], { input: tar });
    const [author, message] = execFileSync('git', ['-C', location, 'log', '-1', '--format=%an <%ae>%n%s', commit], { encoding: 'utf8' }).split('\n');
    options.log?.(`exported ${commit.slice(0, 7)} from ${location}`);
    return { kind: 'git', source: location, ref, commit, author: author ?? null, message: message ?? null, dirty: false, size: 0 };
  }
  cpSync(location, dest, { recursive: true, filter: (path) => !['.git', 'node_modules'].includes(basename(path)) });
  return { kind: 'folder', source: location, ref: null, commit: null, author: null, message: null, dirty: false, size: 0 };
}
