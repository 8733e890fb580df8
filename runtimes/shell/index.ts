import type { RuntimePlugin } from '../types.js';

export const shellRuntime: RuntimePlugin = {
  name: 'shell',
  async versions() {
    return [];
  },
  async plan(ctx) {
    return { description: 'shell', pathPrepend: [], env: {}, prepare: [], fingerprintFiles: [], command: ctx.instance.command };
  },
};
