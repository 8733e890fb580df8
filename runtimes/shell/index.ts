import type { RuntimePlugin } from '../types.js';

/** Runs the command as written, with whatever the environment's PATH offers. */
export const shellRuntime: RuntimePlugin = {
  name: 'shell',
  async versions() {
    return [];
  },
  async plan(ctx) {
    return { description: 'shell', pathPrepend: [], env: {}, prepare: [], fingerprintFiles: [], command: ctx.instance.command };
  },
};
