import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Platform } from '../../engine/index.js';
import { loadManifest } from '../../manifest/index.js';

/** `paasmaker down [DIR|APP]`: stops a project wherever it runs. */
export async function down(target: string): Promise<number> {
  const path = resolve(target);
  const name = existsSync(path) && statSync(path).isDirectory() ? loadManifest(path).application.name : target;
  const platform = await Platform.open({ keeper: false });
  try {
    const result = await platform.down(name);
    process.stdout.write(result === 'stopped' ? `stopped ${name}\n` : `${name} was not running\n`);
    return 0;
  } finally {
    await platform.close();
  }
}
