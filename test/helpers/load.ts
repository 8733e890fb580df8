import { Agent, request } from 'node:http';

/** One GET through the router to a host name, on a keep-alive agent (or a fresh connection). */
export function getHost(port: number, host: string, agent?: Agent, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: agent ?? false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Four keep-alive clients asking a host name in a loop until stopped; every answer and failure counted. */
export function load(port: number, host: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const counts = { ok: 0, failed: 0, bodies: new Map<string, number>(), firstAt: new Map<string, number>(), failures: [] as string[] };
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        const answer = await getHost(port, host, agent);
        if (answer.status !== 200) {
          counts.failed++;
          if (counts.failures.length < 5) counts.failures.push(`${answer.status} ${answer.body.slice(0, 200)}`);
        } else {
          counts.ok++;
          counts.bodies.set(answer.body, (counts.bodies.get(answer.body) ?? 0) + 1);
          if (!counts.firstAt.has(answer.body)) counts.firstAt.set(answer.body, Date.now());
        }
      } catch (error) {
        counts.failed++;
        if (counts.failures.length < 5) counts.failures.push(String(error));
      }
    }
  };
  const loops = Array.from({ length: 4 }, loop);
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}
