import { spawn } from 'node:child_process';

/**
 * The keeper: a tiny sh process that outlives a SIGKILLed Paasmaker just long
 * enough to take its processes down. It reads "+PGID"/"-PGID" lines from a
 * pipe only Paasmaker holds; at end of input (Paasmaker exited, however it
 * died) it sends SIGTERM to every registered group, waits briefly, SIGKILLs
 * them, and also kills any process still carrying Paasmaker's owner token in
 * its environment (a grandchild that left its group with setsid).
 *
 * Built when a keeper starts rather than once at load, so that the mutation
 * check (npm run mutate) knows which specs run each line and runs only those.
 */
function keeperScript(): string {
  return [
    "trap '' INT TERM HUP QUIT",
    'groups=" "',
    'while IFS= read -r line; do',
    '  case "$line" in',
    '    +*) groups="$groups${line#+} " ;;',
    '    -*) groups=$(printf "%s" "$groups" | sed "s/ ${line#-} / /") ;;',
    '  esac',
    'done',
    'for g in $groups; do kill -TERM "-$g" 2>/dev/null; done',
    'i=0',
    'while [ $i -lt 8 ]; do',
    '  alive=0',
    '  for g in $groups; do kill -0 "-$g" 2>/dev/null && alive=1; done',
    '  [ $alive -eq 0 ] && break',
    '  sleep 0.1',
    '  i=$((i + 1))',
    'done',
    'for g in $groups; do kill -KILL "-$g" 2>/dev/null; done',
    'if [ -n "$PAASMAKER_KEEPER_TOKEN" ] && [ -d /proc/self ]; then',
    '  for f in /proc/[0-9]*/environ; do',
    '    if tr "\\0" "\\n" < "$f" 2>/dev/null | grep -qx "PAASMAKER_OWNER=$PAASMAKER_KEEPER_TOKEN"; then',
    '      p=${f#/proc/}; p=${p%/environ}',
    '      [ "$p" != "$$" ] && kill -KILL "$p" 2>/dev/null',
    '    fi',
    '  done',
    'fi',
  ].join('\n');
}

export interface Keeper {
  readonly pid: number | undefined;
  add(pgid: number): void;
  remove(pgid: number): void;
  /** A graceful end: the keeper exits after killing whatever is still registered. */
  close(): void;
}

export function startKeeper(options: { ownerToken?: string } = {}): Keeper {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (options.ownerToken) env.PAASMAKER_KEEPER_TOKEN = options.ownerToken;
  const child = spawn('/bin/sh', ['-c', keeperScript()], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
  child.unref();
  const stdin = child.stdin!;
  // The pipe must not keep Paasmaker's event loop alive.
  (stdin as unknown as { unref?: () => void }).unref?.();
  stdin.on('error', () => {});
  let open = true;
  const send = (line: string) => {
    if (open) stdin.write(`${line}\n`);
  };
  return {
    pid: child.pid,
    add: (pgid) => send(`+${pgid}`),
    remove: (pgid) => send(`-${pgid}`),
    close: () => {
      if (!open) return;
      open = false;
      stdin.end();
    },
  };
}
