import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KeyAndCertificate, SigningAsk } from './signing.js';

/** An idle signing thread ends after this long: new names come in bursts (a start, a new app), then rarely. */
const IDLE_MS = 60_000;

type Waiting = { resolve: (result: KeyAndCertificate) => void; reject: (error: Error) => void };

let worker: Worker | undefined;
let nextId = 1;
/** What each thread was asked and has not answered: a thread that ends fails only its own asks. */
const waitingOn = new WeakMap<Worker, Map<number, Waiting>>();
let idleTimer: NodeJS.Timeout | undefined;

/**
 * Makes the local CA's root, or signs a certificate, off the calling thread:
 * in a worker thread started on first use (it loads the X.509 library, which
 * would hold the router's thread for a few hundred milliseconds) and ended
 * once idle for a minute. Run from TypeScript sources (the unit tests) there
 * is no compiled worker: it signs on this thread.
 */
export async function signOffThread(ask: SigningAsk): Promise<KeyAndCertificate> {
  const script = new URL('./signing-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(script))) {
    const { sign } = await import('./signing.js');
    return sign(ask);
  }
  const thread = (worker ??= start(script));
  if (idleTimer) clearTimeout(idleTimer);
  // Held while it works (an ask outlives nothing else of a short command), let go when idle.
  thread.ref();
  const id = nextId++;
  return new Promise<KeyAndCertificate>((resolve, reject) => {
    waitingOn.get(thread)!.set(id, { resolve, reject });
    thread.postMessage({ id, ask });
  });
}

function start(script: URL): Worker {
  // execArgv: none of the parent's flags (--input-type, loaders) apply to the signer.
  const thread = new Worker(script, { execArgv: [] });
  const waiting = new Map<number, Waiting>();
  waitingOn.set(thread, waiting);
  thread.on('message', (answer: { id: number; result?: KeyAndCertificate; error?: string }) => {
    const asked = waiting.get(answer.id);
    if (!asked) return;
    waiting.delete(answer.id);
    if (answer.result) asked.resolve(answer.result);
    else asked.reject(new Error(answer.error ?? 'the signing thread gave no answer'));
    if (waiting.size === 0) idle(thread);
  });
  const gone = (error: Error) => {
    if (worker === thread) worker = undefined;
    for (const asked of waiting.values()) asked.reject(error);
    waiting.clear();
  };
  thread.on('error', gone);
  thread.on('exit', (code) => gone(new Error(`the signing thread stopped (exit code ${code})`)));
  return thread;
}

function idle(thread: Worker): void {
  thread.unref();
  idleTimer = setTimeout(() => {
    if ((waitingOn.get(thread)?.size ?? 0) > 0 || worker !== thread) return;
    worker = undefined;
    void thread.terminate();
  }, IDLE_MS);
  idleTimer.unref();
}
