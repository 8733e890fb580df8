import type { DatabaseSchema } from '../../shared/views.js';
import { defineCommand } from '../command.js';
import { readService, readTarget } from '../db-read.js';
import { table } from '../output.js';

type Options = { dir: string; json?: boolean };

export default defineCommand<Options>({
  name: 'db describe',
  description: "the tables and views of one of the app's services, their columns and row estimates (Redis: keys counted by type)",
  arguments: [{ name: '[service]', description: 'service name (default: the first that can be queried)' }],
  options: [
    { flags: '--json', description: 'print {protocol, tables: [{schema, name, kind, rowEstimate, columns}]}' },
    { flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' },
  ],
  examples: ['paasmaker db describe', 'paasmaker db describe cache -C ../shop', 'paasmaker db describe db --json'],
  run: ({ args, options }) => dbDescribe(args[0] as string | undefined, options),
});

/** `paasmaker db describe [SERVICE]`: through the running platform's API (GET …/schema), else a platform of this command's own. */
async function dbDescribe(service: string | undefined, options: Options): Promise<number> {
  const target = await readTarget(options.dir, service);
  const schema = await readService<DatabaseSchema>(target, { method: 'GET', path: 'schema' }, (platform, request) => platform.services.describe(request));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    return 0;
  }
  if (schema.tables.length === 0) {
    process.stdout.write(`${target.app}/${target.service} (${schema.protocol}) has no ${schema.protocol === 'redis' ? 'keys' : 'tables'}\n`);
    return 0;
  }
  if (schema.protocol === 'redis') {
    process.stdout.write(table(['type', 'keys'], schema.tables.map((each) => [each.name, each.rowEstimate === null ? '-' : String(each.rowEstimate)])));
    return 0;
  }
  const blocks = schema.tables.map((each) => {
    const name = each.schema && each.schema !== 'public' ? `${each.schema}.${each.name}` : each.name;
    const rows = each.rowEstimate === null ? '' : `, ${each.kind === 'view' ? '' : '~'}${each.rowEstimate} row${each.rowEstimate === 1 ? '' : 's'}`;
    const columns = table(
      ['column', 'type', 'null', 'key'],
      each.columns.map((column) => [column.name, column.type, column.nullable ? 'null' : 'not null', column.primaryKey ? 'primary' : '']),
    );
    return `${name} (${each.kind}${rows})\n${columns.replace(/^/gm, '  ').replace(/\s+$/, '')}\n`;
  });
  process.stdout.write(blocks.join('\n'));
  return 0;
}
