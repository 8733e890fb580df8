import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { glob } from 'tinyglobby';
import type { ResolvedInstance } from '../manifest/index.js';
import type { RuntimePlan } from '../../runtimes/index.js';

/** The steps prepare runs for an instance: the runtime's own, then the manifest's. */
export function prepareSteps(instance: ResolvedInstance, plan: RuntimePlan): string[] {
  return [...plan.prepare, ...instance.prepare.commands];
}

/**
 * Prepare runs again only when something it depends on changed: its commands,
 * the runtime, the dependency files the runtime names (lockfiles,
 * requirements.txt), the files matching the instance's prepare.watch globs, and
 * whether what the runtime's prepare makes is there.
 */
export async function prepareFingerprint(
  directory: string,
  instance: ResolvedInstance,
  plan: RuntimePlan,
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ steps: prepareSteps(instance, plan), runtime: plan.description }));
  const watched =
    instance.prepare.watch.length > 0
      ? await glob(instance.prepare.watch, { cwd: directory, absolute: true, dot: true, ignore: ['**/node_modules/**', '**/.git/**'] })
      : [];
  const files = [...new Set([...plan.fingerprintFiles, ...watched])].sort();
  for (const file of files) {
    hash.update(`\0${file}\0`);
    hash.update(existsSync(file) ? readFileSync(file) : 'absent');
  }
  // A marker's presence, not its contents: the run after an install sees it appear, and the
  // install step, finding its work done, skips itself.
  for (const marker of plan.preparedMarkers ?? []) hash.update(`\0${marker}\0${existsSync(marker) ? 'made' : 'missing'}`);
  return hash.digest('hex');
}
