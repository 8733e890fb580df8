import { request } from 'node:http';
import { connect } from 'node:net';

/**
 * One health check, for readiness and for liveness: a TCP accept on the port,
 * or an HTTP answer below 500 on the health path, within timeoutMs.
 */
export function probe(port: number, path?: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    if (path) {
      const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 500);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
      return;
    }
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}
