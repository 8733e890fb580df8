import { existsSync, statSync } from 'node:fs';
import { PaasmakerError } from '../../src/shared/errors.js';
import type { RuntimePlugin } from '../types.js';
import { describePosition } from '../versions.js';

/** A folder the platform serves itself: no process to run. */
export const staticRuntime: RuntimePlugin = {
  name: 'static',
  async versions() {
    return [];
  },
  async plan(ctx) {
    const root = ctx.instance.root ?? ctx.manifest.directory;
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      throw new PaasmakerError('RUNTIME_MISSING', `instance "${ctx.instance.name}" serves ${root}, which is not a folder (${describePosition(ctx.instance.position)})`, {
        hint: `create the folder, or point \`root:\` at the one holding your site`,
      });
    }
    return { description: `static files from ${root}`, pathPrepend: [], env: {}, prepare: [], fingerprintFiles: [], serve: { root } };
  },
};
