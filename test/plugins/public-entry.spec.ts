import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot, tempHome } from '../helpers/cli.js';

// paasmaker/plugin as a plugin author meets it: a TypeScript package of their own, with paasmaker
// in its node_modules (as `npm install -D paasmaker` puts it), type-checked against the declarations.
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function pluginPackage(source: string): string {
  const { home: dir, cleanup } = tempHome();
  cleanups.push(cleanup);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'paasmaker'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'paasmaker-plugin-typed', type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')] }, files: ['plugin.ts'] }),
  );
  writeFileSync(join(dir, 'plugin.ts'), source);
  return dir;
}

const tsc = (dir: string) => execa(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { reject: false, all: true });

const GOOD = `import { definePlugin, ManagedServer, requireBinary, z, type ServiceContext, type ServerEndpoint } from 'paasmaker/plugin';

class Echo extends ManagedServer {
  readonly title = 'echo';
  constructor(context: ServiceContext) {
    super('echo', context);
  }
  protected initialised() { return true; }
  protected async initialise() {}
  protected configure() {}
  protected command(port: number) { return requireBinary(['socat'], 'echo', 'apt-get install socat') + ' TCP-LISTEN:' + port + ' EXEC:cat'; }
  protected async waitUntilReady(_endpoint: ServerEndpoint) {}
}

export default definePlugin({
  name: 'paasmaker-plugin-typed',
  services: {
    echo: {
      summary: 'an echo server',
      options: z.object({ size: z.number().optional() }),
      factory: (context) => {
        const server = new Echo(context);
        return {
          name: 'echo',
          summary: 'an echo server',
          kind: 'values',
          urlVariable: 'ECHO_URL',
          provision: async () => ({ protocol: 'echo', url: 'tcp://127.0.0.1:' + (await server.ensure()).port }),
          destroy: async () => {},
        };
      },
    },
  },
  runtimes: [{ name: 'deno', plan: async () => ({ description: 'deno', pathPrepend: [], env: {}, prepare: [], fingerprintFiles: [], command: 'deno run main.ts' }), versions: async () => [] }],
});
`;

describe('paasmaker/plugin', () => {
  it("a TypeScript plugin package type-checks against the entry's declarations", async () => {
    const result = await tsc(pluginPackage(GOOD));
    expect(result.all).toBe('');
    expect(result.exitCode).toBe(0);
  }, 60_000);

  it('a service plugin of the wrong shape is a type error in the plugin, not a surprise at load', async () => {
    const result = await tsc(pluginPackage(GOOD.replace("kind: 'values'", "kind: 'cache'")));
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/plugin\.ts\(\d+,\d+\): error TS2322:[\s\S]*Type '"cache"' is not assignable to type '"sql" \| "redis" \| "file" \| "values" \| "mail"'/);
  }, 60_000);
});
