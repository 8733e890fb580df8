import { createServer } from 'node:http';

const port = Number(process.env.PORT);
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${process.env.GREETING}\n`);
}).listen(port, '127.0.0.1', () => console.log(`web listening on ${port}`));
