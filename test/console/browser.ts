import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

/** Debian's Chromium (apt-get install chromium); playwright-core drives it, no browser of its own is downloaded. */
export const CHROMIUM = process.env.PAASMAKER_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const screenshots = join(repoRoot, 'test-artifacts', 'console');

/**
 * Whether the browser tests run: without Chromium they are skipped, saying
 * how to install it; under CI=true a missing browser is a failure instead.
 */
export function browserMissing(): string | undefined {
  if (haveChromium) return undefined;
  const message = `Chromium is not at ${CHROMIUM}: apt-get install chromium (or set PAASMAKER_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`skipping the web console's browser tests: ${message}`);
  return message;
}

/** A headless Chromium with a fresh profile; `close` ends it and removes the profile. */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'pm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  mkdirSync(screenshots, { recursive: true });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
