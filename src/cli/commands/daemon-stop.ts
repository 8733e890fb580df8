import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'daemon stop',
  description: 'stop the daemon and every app it runs',
  examples: ['paasmaker daemon stop'],
  run: async () => {
    const { stopDaemon } = await import('../../daemon/index.js');
    const record = await stopDaemon(homeLayout().root);
    process.stdout.write(record ? `stopped the daemon (pid ${record.pid}) and its apps\n` : 'the daemon is not running\n');
    return 0;
  },
});
