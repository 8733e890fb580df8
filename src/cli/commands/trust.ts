import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { PaasmakerError } from '../../shared/errors.js';
import { homeLayout } from '../../shared/paths.js';
import { resolveSettings } from '../../shared/settings.js';
import { colorEnabled, painter, table } from '../output.js';
import { defineCommand } from '../command.js';

type Options = { yes?: boolean; uninstall?: boolean; status?: boolean; json?: boolean; system?: boolean; nss?: boolean };

export default defineCommand<Options>({
  name: 'trust',
  description: "trust the local certificate authority's root (after asking): add it to the system store and the browsers' NSS databases, or take out what was added",
  options: [
    { flags: '-y, --yes', description: 'do not ask before changing the stores' },
    { flags: '--uninstall', description: 'take the root out of every store paasmaker trust added it to, and nothing else' },
    { flags: '--status', description: 'say which stores trust the root, changing nothing' },
    { flags: '--json', description: 'with --status: a JSON array of stores: store, reader, location, trusted, added' },
    { flags: '--no-system', description: 'leave the system store alone (the browsers only)' },
    { flags: '--no-nss', description: "leave the browsers' NSS databases alone (the system store only)" },
  ],
  examples: [
    'paasmaker trust                  say what it will do, ask, then do it',
    'paasmaker trust --status         which stores trust the root',
    'paasmaker trust --uninstall      take out exactly what paasmaker trust added',
  ],
  run: ({ options }) => trust(options),
});

async function trust(options: Options): Promise<number> {
  if (options.json && !options.status) throw new PaasmakerError('USAGE', '--json goes with --status', { hint: 'paasmaker trust --status --json' });
  if ([options.status, options.uninstall].filter(Boolean).length > 1) throw new PaasmakerError('USAGE', '--status and --uninstall are two different things', { hint: 'run one, then the other' });
  if (process.getuid?.() === 0 && process.env.SUDO_USER && process.env.SUDO_USER !== 'root') {
    // Through sudo, the home is root's (or, with sudo -E, the user's, whose files root would then own): neither is what the user means.
    throw new PaasmakerError('USAGE', `paasmaker trust runs as you, not through sudo (it was started by sudo for ${process.env.SUDO_USER})`, {
      hint: 'run it without sudo: paasmaker trust (it runs the steps that need root through sudo, and says which)',
    });
  }
  const tlsDir = homeLayout(resolveSettings().home).tls;
  if (options.status) return status(tlsDir, options.json === true);
  if (options.uninstall) return uninstall(tlsDir, options.yes === true);
  return install(tlsDir, options);
}

const out = (text: string) => process.stdout.write(text);

async function status(tlsDir: string, json: boolean): Promise<number> {
  const { rootFiles, trustStatus, trustStores, CERTUTIL_INSTALL } = await import('../../tls/index.js');
  const { X509Certificate } = await import('node:crypto');
  const rootFile = rootFiles(tlsDir).cert;
  if (!existsSync(rootFile)) {
    if (json) out('[]\n');
    else out(`No local certificate authority yet in ${tlsDir}: the first start with https makes one (or paasmaker trust, which then trusts it).\n`);
    return 0;
  }
  const stores = trustStores();
  const rows = trustStatus(new X509Certificate(readFileSync(rootFile, 'utf8')), tlsDir, stores);
  if (json) {
    out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  out(`${table(['STORE', 'READER', 'LOCATION', 'TRUSTED', 'ADDED'], rows.map((row) => [row.store, row.reader, row.location, row.trusted ? 'yes' : 'no', row.added ? 'yes' : 'no']))}\n`);
  if (!stores.system) out(`The system store of this system (${process.platform}) is not one Paasmaker knows how to change.\n`);
  if (!stores.certutil && stores.databases.some((database) => database.exists)) out(`certutil is not installed, so the NSS databases cannot be read: ${CERTUTIL_INSTALL()}\n`);
  if (rows.some((row) => !row.trusted)) out('paasmaker trust adds the root where it is missing.\n');
  return 0;
}

/** Asks on the terminal; without one, and without --yes, refuses (nothing has changed). */
async function confirm(yes: boolean, question: string, retry: string): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    throw new PaasmakerError('CONFIRMATION_NEEDED', 'refusing to change the trust stores without confirmation, and there is no terminal to ask on; nothing changed', { hint: `run it in a terminal to be asked, or add --yes: ${retry}` });
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await prompt.question(`${question} [y/N] `);
  prompt.close();
  if (/^y(es)?$/i.test(answer.trim())) return true;
  out('Nothing changed.\n');
  return false;
}

type Plan = import('../../tls/index.js').TrustPlan;

/** Prints each action and the commands it runs, the blocked ones with what to run by hand; what is done already, and what is left alone. */
async function printPlan(plan: Plan, heading: string): Promise<void> {
  const { commandText } = await import('../../tls/index.js');
  const paint = painter(colorEnabled());
  for (const action of plan.actions.filter((candidate) => candidate.already)) out(`${paint('green', '✓')} ${action.done} already\n`);
  const todo = plan.actions.filter((action) => !action.already && !action.blocked);
  if (todo.length > 0) {
    out(`${heading}\n`);
    for (const action of todo) {
      out(`  - ${action.what}:\n`);
      for (const command of action.commands) out(`      ${commandText(command)}\n`);
    }
    if (plan.sudo) out('  (the commands starting with sudo need root: you are not root, so they go through sudo, which may ask for your password)\n');
  }
  for (const action of plan.actions.filter((candidate) => candidate.blocked)) {
    out(`${paint('yellow', '!')} cannot ${action.what}: ${action.blocked}\n`);
    for (const command of action.commands) out(`      ${commandText(command)}\n`);
  }
  for (const note of plan.notes) out(`${paint('yellow', '!')} ${note}\n`);
}

/** Runs the actions that are to do; each one done is recorded (or its entry dropped) at once, so a failure half way keeps the record true. */
async function runPlan(plan: Plan, tlsDir: string, record: (entry: Plan['actions'][number]['entry']) => void): Promise<string[]> {
  const { runAction } = await import('../../tls/index.js');
  const paint = painter(colorEnabled());
  const failures: string[] = [];
  for (const action of plan.actions.filter((candidate) => !candidate.already && !candidate.blocked)) {
    try {
      runAction(action, tlsDir);
      record(action.entry);
      out(`${paint('green', '✓')} ${action.what}\n`);
    } catch (error) {
      failures.push(`${action.what}: ${(error as Error).message}`);
      out(`${paint('red', '✗')} ${action.what}: ${(error as Error).message}\n`);
    }
  }
  return failures;
}

async function install(tlsDir: string, options: Options): Promise<number> {
  const { LocalCa, planTrust, recordAdded, rootFiles, trustRecordFile } = await import('../../tls/index.js');
  // The daemon's own way to the root: made here when no platform has made it yet.
  const ca = await LocalCa.open(tlsDir);
  const rootFile = rootFiles(tlsDir).cert;
  out(`The local certificate authority's root: ${ca.root.subject.match(/CN=(.*)/)?.[1] ?? ca.subject}\n  ${rootFile}, SHA-256 ${ca.root.fingerprint256}, valid until ${new Date(ca.root.validTo).toISOString().slice(0, 10)}\n  (it may only vouch for localhost, *.localhost, *.local.paasmaker and loopback addresses)\n`);
  const plan = planTrust({ root: ca.root, rootFile }, tlsDir, { system: options.system !== false, nss: options.nss !== false });
  await printPlan(plan, 'paasmaker trust will:');
  // Found done but not in the record (a record lost): the names are this root's own, so they are recorded as ours.
  for (const action of plan.actions.filter((candidate) => candidate.already)) recordAdded(tlsDir, action.entry);
  const todo = plan.actions.filter((action) => !action.already && !action.blocked);
  const blocked = plan.actions.filter((action) => action.blocked);
  if (todo.length === 0) {
    if (blocked.length > 0) throw new PaasmakerError('TRUST_FAILED', 'the root could not be added everywhere', { hint: 'run the commands above as root, or run paasmaker trust as root' });
    out(plan.actions.length > 0 ? 'Nothing to do: the root is trusted wherever it can be.\n' : 'Nothing to do.\n');
    return 0;
  }
  out(`What is added is recorded in ${trustRecordFile(tlsDir)}: paasmaker trust --uninstall takes out exactly that.\n`);
  if (!(await confirm(options.yes === true, 'Go on?', 'paasmaker trust --yes'))) return 0;
  const failures = await runPlan(plan, tlsDir, (entry) => recordAdded(tlsDir, entry));
  // A file copied into the system store before its refresh failed is ours all the same: recorded, so --uninstall takes it out.
  for (const action of todo) if (action.entry.store === 'system' && action.entry.system !== 'macos' && existsSync(action.entry.location)) recordAdded(tlsDir, action.entry);
  if (failures.length > 0 || blocked.length > 0) {
    throw new PaasmakerError('TRUST_FAILED', `the root could not be added everywhere: ${[...failures, ...blocked.map((action) => `${action.what}: ${action.blocked}`)].join('; ')}`, {
      hint: 'what was added is recorded (paasmaker trust --status shows where it is trusted); fix the cause above and run paasmaker trust again',
    });
  }
  out('Done: https:// on the router is trusted there. Restart browsers that are open so they read it.\n');
  return 0;
}

async function uninstall(tlsDir: string, yes: boolean): Promise<number> {
  const { planUntrust, recordRemoved, trustRecordFile } = await import('../../tls/index.js');
  const plan = planUntrust(tlsDir);
  if (plan.actions.length === 0) {
    out(`Nothing to take out: paasmaker trust has added no root anywhere for this home (no record in ${trustRecordFile(tlsDir)}).\n`);
    return 0;
  }
  await printPlan(plan, 'paasmaker trust --uninstall will:');
  // Gone already (taken out by hand, a profile deleted): nothing to run, out of the record.
  for (const action of plan.actions.filter((candidate) => candidate.already)) recordRemoved(tlsDir, action.entry);
  const todo = plan.actions.filter((action) => !action.already && !action.blocked);
  const blocked = plan.actions.filter((action) => action.blocked);
  if (todo.length > 0) {
    if (!(await confirm(yes, 'Go on?', 'paasmaker trust --uninstall --yes'))) return 0;
    const failures = await runPlan(plan, tlsDir, (entry) => recordRemoved(tlsDir, entry));
    if (failures.length > 0) throw new PaasmakerError('TRUST_FAILED', `the root could not be taken out everywhere: ${failures.join('; ')}`, { hint: 'what is still there stays in the record: fix the cause above and run paasmaker trust --uninstall again' });
  }
  if (blocked.length > 0) throw new PaasmakerError('TRUST_FAILED', 'the root could not be taken out everywhere', { hint: 'run the commands above as root (or paasmaker trust --uninstall as root); the record keeps what is left' });
  out(todo.length > 0 ? 'Done: the root is out of every store paasmaker trust had added it to.\n' : 'Nothing left to take out.\n');
  return 0;
}
