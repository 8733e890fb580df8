import { createServer } from 'node:http';

const port = Number(process.env.PORT);
// Loopback, as Paasmaker gives it; 0.0.0.0 in a container.
const host = process.env.HOST || '127.0.0.1';
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${process.env.GREETING}\n`);
}).listen(port, host, () => console.log(`web listening on ${port}`));
