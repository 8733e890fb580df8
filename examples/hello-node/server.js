// A hello-world web app. Paasmaker chooses the port and passes it in $PORT.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3000);
// Paasmaker gives HOST=127.0.0.1 (its router reaches apps on loopback only); a container export gives 0.0.0.0.
const host = process.env.HOST || '127.0.0.1';
const greeting = process.env.GREETING ?? 'Hello';

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${greeting} (node ${process.version}, pid ${process.pid})\n`);
});

server.listen(port, host, () => console.log(`listening on http://${host}:${port}/`));

// Finish in-flight requests on SIGTERM, as Paasmaker asks before it forces.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
