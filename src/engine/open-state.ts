import { DiskSpace, filesystemOf } from '../shared/disk-space.js';
import { PaasmakerError } from '../shared/errors.js';
import { ensurePrivateDir, type HomeLayout } from '../shared/paths.js';
import { State } from '../state/index.js';

/**
 * PAASMAKER_HOME made (private) and its state.db opened, with the disk that
 * holds them watched: a home that cannot be made, or a disk with no room,
 * is said before anything starts.
 */
export function openState(layout: HomeLayout): { state: State; space: DiskSpace } {
  try {
    ensurePrivateDir(layout.root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PaasmakerError(code === 'ENOSPC' || code === 'EDQUOT' ? 'DISK_FULL' : 'STATE_UNWRITABLE', `PAASMAKER_HOME ${layout.root} cannot be created (${code})`, {
      hint: 'set PAASMAKER_HOME to a folder you own on a disk with room, or make its parent writable',
      cause: error,
    });
  }
  const space = new DiskSpace(layout.root);
  const state = State.open(layout.stateDb, { space, fullCheck: true });
  if (!space.hasRoom()) {
    state.close();
    const filesystem = filesystemOf(layout.root);
    throw new PaasmakerError('DISK_FULL', `no space left on the disk holding ${layout.root} (${filesystem.mountPoint}): Paasmaker needs room for its state and logs`, {
      hint: `free space on ${filesystem.mountPoint} (see: df -h ${layout.root}), then run the command again`,
    });
  }
  return { state, space };
}
