import { parentPort } from 'node:worker_threads';
import { sign, type SigningAsk } from './signing.js';

/** The signing thread: answers each ask (see signer.ts) with its PEMs, or why it failed. */
parentPort!.on('message', (message: { id: number; ask: SigningAsk }) => {
  sign(message.ask).then(
    (result) => parentPort!.postMessage({ id: message.id, result }),
    (error: unknown) => parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
