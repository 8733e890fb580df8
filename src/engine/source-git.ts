import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PaasmakerError } from '../shared/errors.js';
import { shellQuote } from '../shared/shell.js';
import { copyListed } from './source-tree.js';
import { lastLine, pipeTools, runTool, ToolFailure } from './source-tools.js';

/** What a git export says of the code it wrote. */
export interface GitExport {
  commit: string;
  author: string | null;
  message: string | null;
  ref: string | null;
  dirty: boolean;
}

interface GitOptions {
  ref?: string;
  allowDirty?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** How long a fetch from a URL may take before it counts as unreachable. */
export const FETCH_TIMEOUT_MS = 10 * 60_000;

/** git's transports that run a command of the URL's choosing stay off whatever the user's config says. */
const SAFE_TRANSPORT = ['-c', 'protocol.ext.allow=never'];

/**
 * Exports a local repository (a work tree or a bare one) into `into`: the
 * commit of `ref`, or HEAD's. A work tree with uncommitted changes to
 * tracked files is refused at HEAD unless allowDirty, which exports its
 * files as they are on disk instead.
 */
export async function exportGitRepository(repo: string, into: string, options: GitOptions = {}): Promise<GitExport> {
  const { signal } = options;
  const git = (args: string[]) => runTool('git', ['--no-optional-locks', '-C', repo, ...args], { signal }).catch(localFailure(repo));
  const bare = (await git(['rev-parse', '--is-bare-repository'])).trim() === 'true';
  if (options.ref !== undefined) {
    const commit = await resolveCommit(repo, checkRef(options.ref), signal);
    const info = await exportCommit(repo, commit, into, options);
    return { ...info, ref: options.ref, dirty: false };
  }
  const commit = await headCommit(repo, signal);
  const ref = (await git(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim() || null;
  const top = bare ? repo : (await git(['rev-parse', '--show-toplevel'])).trim();
  const changed = bare ? [] : changedFiles(await git(['status', '--porcelain', '--untracked-files=no', '-z']));
  if (changed.length === 0) return { ...(await exportCommit(repo, commit, into, options)), ref, dirty: false };
  if (!options.allowDirty) {
    const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
    throw new PaasmakerError('SOURCE_DIRTY', `${top} has uncommitted changes: ${shown}`);
  }
  const listed = (await git(['ls-files', '-z', '--cached', '--others', '--exclude-standard'])).split('\0').filter(Boolean);
  const folders = await copyListed(top, into, [...new Set(listed)]);
  if (folders.length > 0 || existsSync(join(top, '.gitmodules'))) options.log?.('submodules are not exported: their folders stay out of the version');
  options.log?.(`exported the work tree of ${top} with its uncommitted changes (at ${commit.slice(0, 7)})`);
  return { ...(await commitInfo(repo, commit, signal)), ref, dirty: true };
}

/**
 * Exports a commit of a repository git fetches from a URL: the ref's (a
 * branch, a tag or a commit id), or the remote HEAD's. The fetch is shallow
 * where the server allows it; everything fetched lives in a scratch
 * repository under `scratchParent`, removed afterwards.
 */
export async function exportGitUrl(url: string, into: string, scratchParent: string, options: GitOptions = {}): Promise<GitExport> {
  const shown = displayUrl(url);
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const ref = options.ref === undefined ? undefined : checkRef(options.ref);
  const scratch = await mkdtemp(join(scratchParent, '.fetch-'));
  const network = (failure: unknown): never => {
    if (timeout.aborted && !options.signal?.aborted) {
      throw new PaasmakerError('SOURCE_UNREACHABLE', `git did not finish fetching ${shown} within ${FETCH_TIMEOUT_MS / 60_000} minutes`, { hint: 'check the network, or deploy from a local clone' });
    }
    if (!(failure instanceof ToolFailure)) throw failure;
    throw new PaasmakerError('SOURCE_UNREACHABLE', `git could not fetch from ${shown}: ${redact(lastLine(failure.stderr), url, shown) || failure.message}`, {
      hint: `check the URL and that this machine can reach it (git ls-remote ${shellQuote(shown)})`,
      detail: redact(failure.stderr.trim(), url, shown) || undefined,
    });
  };
  try {
    await runTool('git', ['init', '-q', '--bare', scratch], { signal });
    const git = (args: string[]) => runTool('git', [...SAFE_TRANSPORT, '-C', scratch, ...args], { signal });
    options.log?.(`fetching ${ref ?? 'HEAD'} from ${shown}`);
    const symref = await git(['ls-remote', '--symref', url, 'HEAD']).catch(network);
    const remoteHead = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(symref)?.[1] ?? null;
    let commit: string;
    try {
      await git(['fetch', '-q', '--no-tags', '--depth', '1', url, ref ?? 'HEAD']);
      commit = (await git(['rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).trim();
    } catch (shallowFailure) {
      if (!(shallowFailure instanceof ToolFailure)) throw shallowFailure;
      if (ref === undefined) {
        if (/couldn't find remote ref HEAD/.test(shallowFailure.stderr)) {
          throw new PaasmakerError('SOURCE_INVALID', `${shown} has no commit yet`, { hint: 'push a commit to it first' });
        }
        return network(shallowFailure);
      }
      // A short commit id, or a server that refuses commit ids: fetch every branch and tag, then look.
      await git(['fetch', '-q', '--no-tags', url, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']).catch(network);
      commit = await resolveCommit(scratch, ref, signal, shown);
    }
    const info = await exportCommit(scratch, commit, into, { ...options, signal }, shown);
    return { ...info, ref: ref ?? remoteHead, dirty: false };
  } catch (error) {
    if (timeout.aborted && !options.signal?.aborted) network(error);
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Writes one commit's tree into `into` (git archive | tar): exactly what was committed. */
async function exportCommit(repo: string, commit: string, into: string, options: GitOptions, shown: string = repo): Promise<Omit<GitExport, 'ref' | 'dirty'>> {
  const { signal } = options;
  await pipeTools({ tool: 'git', args: ['-C', repo, 'archive', '--format=tar', commit] }, { tool: 'tar', args: ['-xf', '-', '-C', into, '--no-same-owner'] }, { signal }).catch(localFailure(shown));
  const submodules = await runTool('git', ['-C', repo, 'cat-file', '-e', `${commit}:.gitmodules`], { signal }).then(
    () => true,
    () => false,
  );
  if (submodules) options.log?.('submodules are not exported (.gitmodules): their folders stay empty in the version');
  return commitInfo(repo, commit, signal, shown);
}

async function commitInfo(repo: string, commit: string, signal?: AbortSignal, shown: string = repo): Promise<Omit<GitExport, 'ref' | 'dirty'>> {
  const text = await runTool('git', ['-C', repo, '-c', 'log.showSignature=false', 'show', '-s', '--no-color', '--format=%H%x00%an <%ae>%x00%s', commit], { signal }).catch(localFailure(shown));
  const [id, author, subject] = text.replace(/\n$/, '').split('\0');
  return { commit: id!, author: author || null, message: subject ?? null };
}

async function headCommit(repo: string, signal?: AbortSignal): Promise<string> {
  const head = await runTool('git', ['-C', repo, 'rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { signal }).catch(() => '');
  if (!head.trim()) throw new PaasmakerError('SOURCE_INVALID', `${repo} has no commit yet`, { hint: 'commit the application first (git add -A && git commit), or deploy the folder with kind "folder"' });
  return head.trim();
}

/** The full id of the commit a branch, tag, commit id or short id names; an unknown one names a few branches. */
async function resolveCommit(repo: string, ref: string, signal?: AbortSignal, shown: string = repo): Promise<string> {
  const found = await runTool('git', ['-C', repo, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { signal }).catch(() => '');
  if (found.trim()) return found.trim();
  const branches = (await runTool('git', ['-C', repo, 'for-each-ref', '--sort=-committerdate', '--format=%(refname:short)', 'refs/heads'], { signal }).catch(() => '')).split('\n').filter(Boolean);
  const hint = branches.length === 0 ? 'it has no branches' : `its branches: ${branches.slice(0, 5).join(', ')}${branches.length > 5 ? ` and ${branches.length - 5} more` : ''} (a tag or a commit id will do too)`;
  throw new PaasmakerError('SOURCE_INVALID', `${shown} has no branch, tag or commit "${ref}"`, { hint });
}

/** A ref is handed to git as an argument: one that reads as an option, or holds spaces or control characters, is refused. */
function checkRef(ref: string): string {
  if (ref === '' || ref.startsWith('-') || /[\s\0-\x1f\x7f]/.test(ref)) {
    throw new PaasmakerError('SOURCE_INVALID', `"${ref}" is not a git ref`, { hint: 'give a branch, a tag or a commit id' });
  }
  return ref;
}

/** The paths `git status --porcelain -z` reports (a rename's new name). */
export function changedFiles(porcelain: string): string[] {
  const fields = porcelain.split('\0');
  const names: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.length < 4) continue;
    names.push(field.slice(3));
    if (/[RC]/.test(field.slice(0, 2))) i += 1;
  }
  return names;
}

/** A location git reads as a URL: `scheme://…`, or scp-like `user@host:path`. */
export function isUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) || /^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:/.test(location);
}

/** A URL as it may be shown and recorded: any password replaced. */
export function displayUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

function redact(text: string, url: string, shown: string): string {
  return url === shown ? text : text.split(url).join(shown);
}

function localFailure(repo: string): (failure: unknown) => never {
  return (failure) => {
    if (!(failure instanceof ToolFailure)) throw failure;
    throw new PaasmakerError('SOURCE_INVALID', `${failure.tool} could not read ${repo}: ${lastLine(failure.stderr) || failure.message}`, {
      hint: failure.tool === 'git' && !isUrl(repo) ? `check it with: git -C ${shellQuote(repo)} status` : undefined,
      detail: failure.stderr.trim().split('\n').slice(-5).join('\n') || undefined,
    });
  };
}
