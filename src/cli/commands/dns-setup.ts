import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { resolverSetup } from '../../shared/dns-setup.js';
import { PaasmakerError } from '../../shared/errors.js';
import { originOf, resolveSettings } from '../../shared/settings.js';
import { defineCommand } from '../command.js';

type Options = { apply?: boolean; yes?: boolean; port?: string };

export default defineCommand<Options>({
  name: 'dns setup',
  description: 'print (and with --apply write, after asking) the resolver configuration for *.local.paasmaker',
  options: [
    { flags: '--apply', description: 'write it (needs root)' },
    { flags: '-y, --yes', description: 'do not ask before writing' },
    { flags: '--port <port>', description: 'the DNS responder port (default 7653, or $PAASMAKER_DNS_PORT)' },
  ],
  examples: ['paasmaker dns setup                what to write, and where', 'sudo paasmaker dns setup --apply   write it, after asking'],
  run: ({ options }) => dnsSetup(options),
});

/** `paasmaker dns setup`: prints (and with --apply writes, after asking) the resolver configuration for *.local.paasmaker. */
async function dnsSetup(options: Options): Promise<number> {
  const settings = resolveSettings({ flags: { dnsPort: options.port }, flagNames: { dnsPort: '--port' } });
  const port = settings.dnsPort;
  if (port === 0) {
    // The system resolver must be told one port; "any free one" is known only to the platform that took it.
    throw new PaasmakerError(settings.source.dnsPort === 'flag' ? 'USAGE' : 'CONFIG_INVALID', `${originOf(settings, 'dnsPort', { flagName: '--port' })}: the system resolver needs the DNS responder's fixed port, not 0 (any free one)`, {
      hint: 'give the port paasmaker up and the daemon use, for example: paasmaker dns setup --port 7653',
    });
  }
  const setup = resolverSetup(process.platform, port);
  if (!setup) {
    throw new PaasmakerError('USAGE', `Paasmaker does not know how to configure name resolution on ${process.platform}`, {
      hint: 'use http://<app>.localhost:7654/, which needs no set-up',
    });
  }
  process.stdout.write(`For ${setup.system}, write ${setup.file}:\n\n${setup.content.replace(/^/gm, '  ')}\n`);
  if (setup.reload) process.stdout.write(`then run: ${setup.reload.join(' ')}\n`);
  if (!options.apply) {
    process.stdout.write('\nRun `paasmaker dns setup --apply` to do this (it needs root).\n');
    return 0;
  }
  if (!options.yes) {
    if (!process.stdin.isTTY) throw new PaasmakerError('USAGE', 'refusing to change system files without confirmation', { hint: 'run it in a terminal, or add --yes' });
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question(`Write ${setup.file}${setup.reload ? ` and run \`${setup.reload.join(' ')}\`` : ''}? [y/N] `);
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stdout.write('Nothing changed.\n');
      return 0;
    }
  }
  try {
    mkdirSync(dirname(setup.file), { recursive: true });
    writeFileSync(setup.file, setup.content, { mode: 0o644 });
    if (setup.reload) execFileSync(setup.reload[0]!, setup.reload.slice(1), { stdio: 'inherit' });
  } catch (error) {
    throw new PaasmakerError('USAGE', `could not configure the resolver: ${(error as Error).message}`, { hint: 'run it with sudo, or write the file above by hand' });
  }
  process.stdout.write(`Done: *.local.paasmaker now resolves through Paasmaker (while \`paasmaker up\` runs). Check with: paasmaker doctor\n`);
  return 0;
}
