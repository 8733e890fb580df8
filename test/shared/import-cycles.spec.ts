import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// The import graph of src/ (and runtimes/, which src imports), read from the
// sources: every import, re-export and dynamic import(), type-only ones too.

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A relative specifier ("./x.js", "../room/index.js") as the file it names. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier).replace(/\.js$/, '');
  return [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

function importGraph(): Map<string, string[]> {
  const files = [...sourceFiles(join(repoRoot, 'src')), ...sourceFiles(join(repoRoot, 'runtimes'))];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles.map((imported) => resolveSpecifier(file, imported.fileName)).filter((target): target is string => target !== undefined);
    graph.set(relative(repoRoot, file), [...new Set(targets.map((target) => relative(repoRoot, target)))]);
  }
  return graph;
}

/** Each cycle's members, one path per strongly connected component (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** src/<folder>/… → "src/<folder>"; src/main.ts → "src"; runtimes/… → "runtimes". */
const folderOf = (file: string) => (file.startsWith('src/') ? file.split('/').slice(0, file.split('/').length > 2 ? 2 : 1).join('/') : file.split('/')[0]!);

describe('the import graph', () => {
  const graph = importGraph();

  it('is read from the sources: the CLI reaches the engine, the engine the runtimes', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/engine/platform.ts')).toContain('src/engine/launcher.ts');
    expect(graph.get('src/engine/launcher.ts')).toContain('runtimes/index.ts');
  });

  it('has no cycle among the files of src/', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no cycle among the top-level folders of src/ (runtimes/ counted as one)', () => {
    const folders = new Map<string, string[]>();
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      const edges = folders.get(from) ?? [];
      for (const target of targets) if (folderOf(target) !== from && !edges.includes(folderOf(target))) edges.push(folderOf(target));
      folders.set(from, edges);
    }
    // Each folder cycle with the imports that make it, so a failure says which line to move.
    const found = cycles(folders).map((members) => [...graph].flatMap(([file, targets]) => targets.filter((target) => folderOf(target) !== folderOf(file) && members.includes(folderOf(file)) && members.includes(folderOf(target))).map((target) => `${file} → ${target}`)));
    expect(found).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const graphWithCycle = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(graphWithCycle)).toEqual([['a', 'b', 'c']]);
  });
});
