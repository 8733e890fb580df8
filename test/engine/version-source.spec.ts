import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportSource } from '../../src/engine/version-source.js';
import { PaasmakerError, type ErrorCode } from '../../src/shared/errors.js';
import { AUTHOR, commitAll, git, initRepo, tempFolder, writeFiles } from '../helpers/git-repo.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

// A version's code comes from a repository, an archive or a folder: what is
// exported, what is refused, and that a refusal leaves nothing behind.

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A repository with two commits of a small app: v1 tagged, main at the second. */
function appRepo(): { repo: string; first: string; second: string; versions: string } {
  const root = tempFolder('pm-source-', cleanups);
  const repo = initRepo(join(root, 'shop'));
  const first = commitAll(repo, { 'server.js': 'console.log("v1")\n', 'bin/start': '#!/bin/sh\nexec node server.js\n', '.gitignore': 'secret.txt\n' }, 'First version');
  git(repo, ['tag', 'v1']);
  const second = commitAll(repo, { 'server.js': 'console.log("v2")\n', 'README.md': 'shop\n' }, 'Say v2\n\nThe body is not the subject.');
  return { repo, first, second, versions: join(root, 'versions') };
}

/** Every path under a folder (folders end with /), sorted. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = `${prefix}${entry.name}`;
      return entry.isDirectory() ? [`${path}/`, ...tree(join(dir, entry.name), `${path}/`)] : [path];
    })
    .sort();
}

async function refusal(promise: Promise<unknown>, code: ErrorCode): Promise<PaasmakerError> {
  const error = await promise.then(
    () => {
      throw new Error('the export was not refused');
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(PaasmakerError);
  expect((error as PaasmakerError).code).toBe(code);
  return error as PaasmakerError;
}

/** Nothing of a failed export is left: not the version's folder, not a half-written one beside it. */
function expectNothingLeft(versions: string): void {
  expect(existsSync(versions) ? readdirSync(versions) : []).toEqual([]);
}

describe('exporting a git work tree', () => {
  it('exports exactly the commit at HEAD, with its id, author, subject and branch, and its executable bits', async () => {
    const { repo, second, versions } = appRepo();
    writeFiles(repo, { 'untracked.txt': 'not committed\n', 'secret.txt': 'ignored\n' });
    const dest = join(versions, '1');
    const info = await exportSource({ location: repo }, dest);
    expect(info).toEqual({
      kind: 'git',
      source: repo,
      ref: 'main',
      commit: second,
      author: `${AUTHOR.name} <${AUTHOR.email}>`,
      message: 'Say v2',
      dirty: false,
      size: 'console.log("v2")\n'.length + '#!/bin/sh\nexec node server.js\n'.length + 'secret.txt\n'.length + 'shop\n'.length,
    });
    expect(tree(dest)).toEqual(['.gitignore', 'README.md', 'bin/', 'bin/start', 'server.js']);
    expect(readFileSync(join(dest, 'server.js'), 'utf8')).toBe('console.log("v2")\n');
    expect(statSync(join(dest, 'bin/start')).mode & 0o111).not.toBe(0);
    expect(statSync(dest).mode & 0o777).toBe(0o755);
    expect(readdirSync(versions)).toEqual(['1']);
  });

  it('resolves a relative path against the cwd it is given', async () => {
    const { repo, second, versions } = appRepo();
    const info = await exportSource({ location: '.' }, join(versions, '1'), { cwd: repo });
    expect(info.source).toBe(repo);
    expect(info.commit).toBe(second);
  });

  it('refuses a work tree with uncommitted changes, naming the files and how to go on, and writes nothing', async () => {
    const { repo, versions } = appRepo();
    writeFiles(repo, { 'server.js': 'console.log("edited")\n' });
    rmSync(join(repo, 'README.md'));
    const error = await refusal(exportSource({ location: repo }, join(versions, '1')), 'SOURCE_DIRTY');
    expect(error.message).toContain('server.js');
    expect(error.message).toContain('README.md');
    expect(error.hint).toBe('commit them, or deploy with --allow-dirty');
    expectNothingLeft(versions);
  });

  it('names five changed files and counts the rest', async () => {
    const { repo, versions } = appRepo();
    commitAll(repo, Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}.txt`, 'a\n'])), 'More files');
    writeFiles(repo, Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}.txt`, 'b\n'])));
    const error = await refusal(exportSource({ location: repo }, join(versions, '1')), 'SOURCE_DIRTY');
    expect(error.message).toMatch(/: (f\d\.txt, ){4}f\d\.txt and 3 more$/);
  });

  it('with allowDirty exports the files as they are on disk: changes and new files in, ignored and deleted ones out', async () => {
    const { repo, second, versions } = appRepo();
    writeFiles(repo, { 'server.js': 'console.log("edited")\n', 'new.js': 'new\n', 'secret.txt': 'ignored\n' });
    rmSync(join(repo, 'README.md'));
    const dest = join(versions, '1');
    const info = await exportSource({ location: repo, allowDirty: true }, dest);
    expect(info).toMatchObject({ kind: 'git', commit: second, ref: 'main', dirty: true, message: 'Say v2' });
    expect(tree(dest)).toEqual(['.gitignore', 'bin/', 'bin/start', 'new.js', 'server.js']);
    expect(readFileSync(join(dest, 'server.js'), 'utf8')).toBe('console.log("edited")\n');
    expect(statSync(join(dest, 'bin/start')).mode & 0o111).not.toBe(0);
  });

  it('with allowDirty and a clean tree exports the commit (untracked files stay out)', async () => {
    const { repo, versions } = appRepo();
    writeFiles(repo, { 'untracked.txt': 'x\n' });
    const info = await exportSource({ location: repo, allowDirty: true }, join(versions, '1'));
    expect(info.dirty).toBe(false);
    expect(existsSync(join(versions, '1', 'untracked.txt'))).toBe(false);
  });

  it('exports the commit a tag, a branch, a full or a short id names, even when the work tree is dirty', async () => {
    const { repo, first, second, versions } = appRepo();
    git(repo, ['branch', 'release', first]);
    writeFiles(repo, { 'server.js': 'console.log("edited")\n' });
    const cases: Array<[string, string]> = [['v1', first], ['release', first], [first, first], [second.slice(0, 7), second], ['HEAD~1', first]];
    for (const [index, [ref, commit]] of cases.entries()) {
      const dest = join(versions, String(index));
      const info = await exportSource({ location: repo, ref }, dest);
      expect(info).toMatchObject({ commit, ref, dirty: false });
      expect(readFileSync(join(dest, 'server.js'), 'utf8')).toBe(commit === first ? 'console.log("v1")\n' : 'console.log("v2")\n');
    }
    expect(existsSync(join(versions, '0', 'README.md'))).toBe(false);
  });

  it('refuses a ref the repository does not have, naming its branches', async () => {
    const { repo, first, versions } = appRepo();
    git(repo, ['branch', 'staging', first]);
    const error = await refusal(exportSource({ location: repo, ref: 'nope' }, join(versions, '1')), 'SOURCE_INVALID');
    expect(error.message).toBe(`${repo} has no branch, tag or commit "nope"`);
    expect(error.hint).toMatch(/its branches: (main, staging|staging, main)/);
    await refusal(exportSource({ location: repo, ref: '--output=/tmp/x' }, join(versions, '1')), 'SOURCE_INVALID');
    expectNothingLeft(versions);
  });

  it('records no branch for a detached HEAD', async () => {
    const { repo, first, versions } = appRepo();
    git(repo, ['checkout', '-q', '--detach', first]);
    const info = await exportSource({ location: repo }, join(versions, '1'));
    expect(info).toMatchObject({ commit: first, ref: null });
  });

  it('refuses a repository without a commit', async () => {
    const root = tempFolder('pm-source-', cleanups);
    const repo = initRepo(join(root, 'empty'));
    writeFiles(repo, { 'a.txt': 'a\n' });
    const error = await refusal(exportSource({ location: repo }, join(root, 'versions', '1')), 'SOURCE_INVALID');
    expect(error.message).toBe(`${repo} has no commit yet`);
  });

  it('says that submodules are not exported', async () => {
    const { repo, versions } = appRepo();
    commitAll(repo, { '.gitmodules': '[submodule "lib"]\n\tpath = lib\n\turl = https://example.com/lib.git\n' }, 'Declare a submodule');
    const lines: string[] = [];
    await exportSource({ location: repo }, join(versions, '1'), { log: (line) => lines.push(line) });
    expect(lines.join('\n')).toMatch(/submodules are not exported/);
  });
});

describe('exporting from other repositories', () => {
  it('exports a bare repository at its HEAD or at a ref', async () => {
    const { repo, first, second, versions } = appRepo();
    const bare = join(repo, '..', 'shop.git');
    git(join(repo, '..'), ['clone', '-q', '--bare', repo, bare]);
    expect(await exportSource({ location: bare }, join(versions, '1'))).toMatchObject({ kind: 'git', commit: second, ref: 'main', dirty: false });
    expect(await exportSource({ location: bare, ref: 'v1' }, join(versions, '2'))).toMatchObject({ commit: first, ref: 'v1' });
  });

  it('fetches from a URL: the remote HEAD, a tag, a short commit id; an unknown ref names the branches', async () => {
    const { repo, first, second, versions } = appRepo();
    const url = `file://${repo}`;
    const lines: string[] = [];
    const head = await exportSource({ location: url }, join(versions, '1'), { log: (line) => lines.push(line) });
    expect(head).toEqual({ kind: 'git', source: url, ref: 'main', commit: second, author: `${AUTHOR.name} <${AUTHOR.email}>`, message: 'Say v2', dirty: false, size: expect.any(Number) });
    expect(lines.join('\n')).toContain(`fetching HEAD from ${url}`);
    expect(tree(join(versions, '1'))).toEqual(['.gitignore', 'README.md', 'bin/', 'bin/start', 'server.js']);
    expect(await exportSource({ location: url, ref: 'v1' }, join(versions, '2'))).toMatchObject({ commit: first, ref: 'v1' });
    expect(readFileSync(join(versions, '2', 'server.js'), 'utf8')).toBe('console.log("v1")\n');
    expect(await exportSource({ location: url, ref: first.slice(0, 8) }, join(versions, '3'))).toMatchObject({ commit: first });
    const error = await refusal(exportSource({ location: url, ref: 'nope' }, join(versions, '4')), 'SOURCE_INVALID');
    expect(error.hint).toContain('main');
    expect(readdirSync(versions).sort()).toEqual(['1', '2', '3']);
  });

  it('a URL of a repository without a commit says so', async () => {
    const root = tempFolder('pm-source-', cleanups);
    git(root, ['init', '-q', '--bare', join(root, 'empty.git')]);
    const error = await refusal(exportSource({ location: `file://${root}/empty.git` }, join(root, 'versions', '1')), 'SOURCE_INVALID');
    expect(error.message).toBe(`file://${root}/empty.git has no commit yet`);
    expectNothingLeft(join(root, 'versions'));
  });

  it('reports a URL nothing answers on as unreachable, and a password in a URL is never shown', async () => {
    const { versions } = appRepo();
    const error = await refusal(exportSource({ location: 'file:///nonexistent/repo.git' }, join(versions, '1')), 'SOURCE_UNREACHABLE');
    expect(error.message).toMatch(/^git could not fetch from file:\/\/\/nonexistent\/repo\.git: /);
    const hidden = await refusal(exportSource({ location: 'http://user:s3cret@127.0.0.1:1/repo.git' }, join(versions, '1')), 'SOURCE_UNREACHABLE');
    expect(`${hidden.message} ${hidden.hint} ${hidden.detail}`).not.toContain('s3cret');
    expect(hidden.message).toContain('http://user:***@127.0.0.1:1/repo.git');
    expectNothingLeft(versions);
  });
});

describe('exporting archives', () => {
  it('a .tar.gz holding one top folder (as GitHub makes them) has that folder as its root', async () => {
    const root = tempFolder('pm-source-', cleanups);
    writeFiles(join(root, 'shop-main'), { 'server.js': 'hi\n', 'bin/start': '#!/bin/sh\n' });
    const archive = join(root, 'shop.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', root, 'shop-main']);
    const dest = join(root, 'versions', '1');
    const info = await exportSource({ location: 'shop.tar.gz' }, dest, { cwd: root });
    expect(info).toEqual({ kind: 'archive', source: archive, ref: null, commit: null, author: null, message: null, dirty: false, size: 'hi\n'.length + '#!/bin/sh\n'.length });
    expect(tree(dest)).toEqual(['bin/', 'bin/start', 'server.js']);
    expect(statSync(join(dest, 'bin/start')).mode & 0o111).not.toBe(0);
    expect(readdirSync(join(root, 'versions'))).toEqual(['1']);
  });

  it('a .tar with several entries at its top keeps them all', async () => {
    const root = tempFolder('pm-source-', cleanups);
    writeFiles(join(root, 'app'), { 'server.js': 'hi\n', 'lib/a.js': 'a\n' });
    execFileSync('tar', ['-cf', join(root, 'app.tar'), '-C', join(root, 'app'), '.']);
    const dest = join(root, 'versions', '1');
    await exportSource({ location: join(root, 'app.tar') }, dest);
    expect(tree(dest)).toEqual(['lib/', 'lib/a.js', 'server.js']);
  });

  it('a .zip is extracted, its top folder stripped too', async () => {
    const root = tempFolder('pm-source-', cleanups);
    writeFiles(join(root, 'shop-main'), { 'server.js': 'hi\n', 'public/index.html': '<p>hi</p>\n' });
    execFileSync('zip', ['-qr', join(root, 'shop.zip'), 'shop-main'], { cwd: root });
    const dest = join(root, 'versions', '1');
    const info = await exportSource({ location: join(root, 'shop.zip') }, dest);
    expect(info).toMatchObject({ kind: 'archive', size: 'hi\n'.length + '<p>hi</p>\n'.length });
    expect(tree(dest)).toEqual(['public/', 'public/index.html', 'server.js']);
  });

  it('refuses a tar whose members climb out with ../ or start with /, and writes nothing anywhere', async () => {
    const root = tempFolder('pm-source-', cleanups);
    writeFiles(join(root, 'src'), { 'evil.txt': 'owned\n', 'ok.txt': 'ok\n' });
    const archive = join(root, 'evil.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', join(root, 'src'), '-P', '--transform', 's,^evil.txt,../../evil.txt,', 'ok.txt', 'evil.txt']);
    const versions = join(root, 'deep', 'versions');
    const error = await refusal(exportSource({ location: archive }, join(versions, '1')), 'SOURCE_INVALID');
    expect(error.message).toBe(`${archive} holds paths outside its own folder: ../../evil.txt`);
    expect(existsSync(join(root, 'evil.txt'))).toBe(false);
    expectNothingLeft(versions);
    const absolute = join(root, 'absolute.tar');
    execFileSync('tar', ['-cf', absolute, '-P', '--transform', `s,^,${root}/planted/,`, '-C', join(root, 'src'), 'ok.txt']);
    await refusal(exportSource({ location: absolute }, join(versions, '1')), 'SOURCE_INVALID');
    expect(existsSync(join(root, 'planted'))).toBe(false);
  });

  it('refuses a tar that writes through a symlink of its own to a folder outside, and nothing lands there', async () => {
    const root = tempFolder('pm-source-', cleanups);
    const outside = join(root, 'outside');
    writeFiles(outside, { 'keep.txt': 'keep\n' });
    const src = join(root, 'src');
    writeFiles(src, { 'ok.txt': 'ok\n' });
    symlinkSync(outside, join(src, 'link'));
    const archive = join(root, 'trick.tar');
    execFileSync('tar', ['-cf', archive, '-C', src, 'ok.txt', 'link']);
    rmSync(join(src, 'link'));
    writeFiles(src, { 'link/planted.txt': 'owned\n' });
    execFileSync('tar', ['-rf', archive, '-C', src, 'link/planted.txt']);
    await refusal(exportSource({ location: archive }, join(root, 'versions', '1')), 'SOURCE_INVALID');
    expect(readdirSync(outside)).toEqual(['keep.txt']);
    expectNothingLeft(join(root, 'versions'));
  });

  it('refuses a .zip entry that climbs out', async () => {
    const root = tempFolder('pm-source-', cleanups);
    writeFiles(join(root, 'a', 'b'), { 'ok.txt': 'ok\n' });
    writeFiles(join(root, 'a'), { 'evil.txt': 'owned\n' });
    // zip stores the name as given: ../evil.txt from a/b.
    execFileSync('zip', ['-q', join(root, 'evil.zip'), 'ok.txt', '../evil.txt'], { cwd: join(root, 'a', 'b') });
    const error = await refusal(exportSource({ location: join(root, 'evil.zip') }, join(root, 'versions', '1')), 'SOURCE_INVALID');
    expect(error.message).toContain('../evil.txt');
    expectNothingLeft(join(root, 'versions'));
  });

  it('refuses a file that is not an archive, and an archive that is not readable', async () => {
    const root = tempFolder('pm-source-', cleanups);
    writeFileSync(join(root, 'notes.txt'), 'hello\n');
    writeFileSync(join(root, 'broken.tar.gz'), 'not gzip at all\n');
    const notArchive = await refusal(exportSource({ location: join(root, 'notes.txt') }, join(root, 'versions', '1')), 'SOURCE_INVALID');
    expect(notArchive.message).toBe(`${join(root, 'notes.txt')} is neither a .tar.gz, .tgz, .tar or .zip archive nor a folder`);
    const broken = await refusal(exportSource({ location: join(root, 'broken.tar.gz') }, join(root, 'versions', '1')), 'SOURCE_INVALID');
    expect(broken.message).toMatch(/is not a readable tar\.gz archive/);
    expectNothingLeft(join(root, 'versions'));
  });

  it('an upload from a git push is recorded with the commit its sender gives; one without a commit is an archive', async () => {
    const { repo, second, versions } = appRepo();
    const file = join(versions, '..', 'push.tar.gz');
    // What the hook sends: git archive of the pushed commit, no top folder.
    execFileSync('git', ['-C', repo, 'archive', '--format=tar.gz', '-o', file, 'HEAD']);
    const pushed = await exportSource({ kind: 'upload', file, format: 'tar.gz', name: 'git push', ref: 'main', commit: second, author: 'Ada <ada@example.com>', message: 'Say v2' }, join(versions, '1'));
    expect(pushed).toMatchObject({ kind: 'git', source: 'git push', ref: 'main', commit: second, author: 'Ada <ada@example.com>', message: 'Say v2', dirty: false });
    expect(tree(join(versions, '1'))).toEqual(['.gitignore', 'README.md', 'bin/', 'bin/start', 'server.js']);
    const plain = await exportSource({ kind: 'upload', file, format: 'tar.gz' }, join(versions, '2'));
    expect(plain).toMatchObject({ kind: 'archive', source: 'upload', commit: null, ref: null });
    expect(existsSync(file)).toBe(true);
  });
});

describe('exporting a folder', () => {
  it('copies it (kind folder, even a work tree) without .git and node_modules, keeping modes and symlinks as links', async () => {
    const root = tempFolder('pm-source-', cleanups);
    const app = join(root, 'app');
    writeFiles(app, { 'server.js': 'hi\n', 'bin/start': '#!/bin/sh\n', 'node_modules/x/index.js': 'x\n', 'lib/node_modules/y.js': 'y\n', '.env': 'A=1\n' });
    initRepo(app);
    symlinkSync('/etc/hostname', join(app, 'outside'));
    symlinkSync('server.js', join(app, 'inside'));
    const dest = join(root, 'versions', '1');
    const info = await exportSource({ kind: 'folder', location: app }, dest);
    expect(info).toEqual({ kind: 'folder', source: app, ref: null, commit: null, author: null, message: null, dirty: false, size: 'hi\n'.length + '#!/bin/sh\n'.length + 'A=1\n'.length });
    expect(tree(dest)).toEqual(['.env', 'bin/', 'bin/start', 'inside', 'lib/', 'outside', 'server.js']);
    expect(lstatSync(join(dest, 'outside')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dest, 'outside'))).toBe('/etc/hostname');
    expect(readlinkSync(join(dest, 'inside'))).toBe('server.js');
    expect(statSync(join(dest, 'bin/start')).mode & 0o777).toBe(statSync(join(app, 'bin/start')).mode & 0o777);
  });

  it('a folder that holds the versions folder is copied without copying the copy into itself', async () => {
    const root = tempFolder('pm-source-', cleanups);
    writeFiles(root, { 'server.js': 'hi\n' });
    const dest = join(root, 'home', 'versions', 'app', '1');
    await exportSource({ location: root }, dest);
    expect(tree(dest)).toEqual(['home/', 'home/versions/', 'home/versions/app/', 'server.js']);
  });

  it('a missing path is named', async () => {
    const root = tempFolder('pm-source-', cleanups);
    const error = await refusal(exportSource({ location: 'nowhere' }, join(root, 'versions', '1'), { cwd: root }), 'SOURCE_INVALID');
    expect(error.message).toBe(`${join(root, 'nowhere')} does not exist`);
  });

  it('an empty folder is refused', async () => {
    const root = tempFolder('pm-source-', cleanups);
    writeFiles(root, { 'app/node_modules/x.js': 'x\n' });
    const error = await refusal(exportSource({ location: join(root, 'app') }, join(root, 'versions', '1')), 'SOURCE_INVALID');
    expect(error.message).toBe(`${join(root, 'app')} holds no files`);
    expectNothingLeft(join(root, 'versions'));
  });
});

describe('what a source needs of the machine', () => {
  it('without git on the PATH, the refusal names what to install', async () => {
    const { repo, versions } = appRepo();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const error = await refusal(exportSource({ location: repo }, join(versions, '1')), 'SOURCE_TOOL_MISSING');
      expect(error.message).toMatch(/^git is not installed/);
      expect(error.hint).toMatch(/^install git: .*git/);
    } finally {
      process.env.PATH = path;
    }
    expectNothingLeft(versions);
  });

  it('an export stopped by its signal ends with the signal\'s reason and leaves nothing', async () => {
    const { repo, versions } = appRepo();
    const controller = new AbortController();
    controller.abort(new Error('the deploy was cancelled'));
    await expect(exportSource({ location: `file://${repo}` }, join(versions, '1'), { signal: controller.signal })).rejects.toThrow('the deploy was cancelled');
    expectNothingLeft(versions);
  });

  it('a disk that fills up during the export is reported as full, for a folder and for a commit, and the partial copy is removed', async (context) => {
    const tmpfs = mountTmpfs(1);
    if ('skip' in tmpfs) return context.skip(tmpfs.skip);
    cleanups.push(tmpfs.unmount);
    const { repo, versions } = appRepo();
    commitAll(repo, { 'big.bin': 'x'.repeat(2 * 1024 * 1024) }, 'A large file');
    const full = join(tmpfs.dir, 'versions');
    const fromGit = await refusal(exportSource({ location: repo }, join(full, '1')), 'DISK_FULL');
    expect(fromGit.message).toMatch(/ran out of disk space/);
    await refusal(exportSource({ kind: 'folder', location: repo }, join(full, '1')), 'DISK_FULL');
    expectNothingLeft(full);
    expectNothingLeft(versions);
  });
});
