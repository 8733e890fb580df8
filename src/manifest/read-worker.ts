import { parentPort, workerData } from 'node:worker_threads';
import { PaasmakerError } from '../shared/errors.js';
import { loadManifest } from './index.js';

/** Reads one project's manifest off the main thread; see loadManifestAsync. */
try {
  // As JSON text: one string to copy, and JSON.parse on the receiving thread is quicker than a structured clone.
  parentPort!.postMessage({ manifest: JSON.stringify(loadManifest((workerData as { directory: string }).directory)) });
} catch (error) {
  if (error instanceof PaasmakerError) parentPort!.postMessage({ refused: { code: error.code, message: error.message, hint: error.hint, detail: error.detail } });
  else parentPort!.postMessage({ bug: error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) } });
}
