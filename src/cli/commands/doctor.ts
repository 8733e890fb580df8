import { degradedPlatforms, runningPlatforms, type DoctorCheck } from '../../api/index.js';
import { resolveSettings } from '../../shared/settings.js';
import { colorEnabled, painter } from '../output.js';
import { readFromPlatform } from '../running-platform.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ json?: boolean }>({
  name: 'doctor',
  description: 'check state and disk, the routers and DNS responder of the running platforms, https (its port, the local CA, which stores trust its root), name resolution of *.localhost and *.local.paasmaker, the runtimes the projects need and the database servers, and say what to fix',
  options: [{ flags: '--json', description: 'print a JSON array of checks: name, ok, what, fix' }],
  examples: ['paasmaker doctor', 'paasmaker doctor --json    for scripts: exits 1 when a check fails'],
  run: ({ options }) => doctor(options),
});

/** The checks run here: the ports the running platforms took (else the configured ones), state.db read without starting anything. */
async function localChecks(): Promise<DoctorCheck[]> {
  const { readState } = await import('../read-state.js');
  const { doctorChecks } = await import('../../engine/index.js');
  const settings = resolveSettings();
  const apps = () => readState((state) => state.apps.list());
  return doctorChecks({
    home: settings.home,
    proxyPort: settings.proxyPort,
    dnsPort: settings.dnsPort,
    tlsPort: settings.tlsPort,
    platforms: await runningPlatforms(settings.home),
    owners: () => apps()?.flatMap((record) => (record.ownerPid ? [{ pid: record.ownerPid, startTime: record.ownerStart }] : [])),
    projects: () => (apps() ?? []).map((record) => ({ app: record.name, directory: record.directory, manifest: record.manifest })),
    env: process.env,
    degraded: (owners) => degradedPlatforms(settings.home, owners),
  });
}

/**
 * `paasmaker doctor [--json]`: the router port, name resolution of both
 * zones, state and disk, each with what to fix. The daemon runs them when
 * it runs (it knows the ports it took), else this command, with the ports
 * it is configured with.
 */
async function doctor(options: { json?: boolean } = {}): Promise<number> {
  // Settings are checked first: a bad PAASMAKER_*_PORT is the first thing to fix, whoever runs the checks.
  resolveSettings();
  const checks = await readFromPlatform('/api/v1/doctor', localChecks, { timeoutMs: 15_000, daemon: true });
  const ok = checks.every((check) => check.ok);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
    return ok ? 0 : 1;
  }
  const paint = painter(colorEnabled());
  for (const check of checks) {
    // A passing check with a step to take is optional (a database server no project uses yet): marked apart, not failed.
    const mark = !check.ok ? paint('red', '✗') : check.fix ? paint('yellow', '·') : paint('green', '✓');
    process.stdout.write(`${mark} ${check.what}\n`);
    if (check.fix) process.stdout.write(`  ${check.ok ? check.fix : `${paint('cyan', 'fix:')} ${check.fix}`}\n`);
  }
  return ok ? 0 : 1;
}
