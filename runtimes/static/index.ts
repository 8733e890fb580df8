import { statSync } from 'node:fs';
import { PaasmakerError } from '../../src/shared/errors.js';
import type { RuntimePlugin } from '../types.js';
import { describePosition } from '../versions.js';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A folder the platform serves itself: no process to run. */
export const staticRuntime: RuntimePlugin = {
  name: 'static',
  async versions() {
    return [];
  },
  async plan(ctx) {
    const root = ctx.instance.root ?? ctx.manifest.directory;
    if (!isDirectory(root)) {
      throw new PaasmakerError(
        'RUNTIME_MISSING',
        `instance "${ctx.instance.name}" serves ${root}, which is not a folder (${describePosition(ctx.instance.position)})`,
        { hint: 'create the folder (or build the site into it), or point `root:` at the folder holding your site' },
      );
    }
    return { description: `static files from ${root}`, pathPrepend: [], env: {}, prepare: [], fingerprintFiles: [], serve: { root } };
  },
};
