import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installLine, packageManager } from '../../src/shared/install-line.js';
import { tmpDir } from '../helpers/processes.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function osRelease(text: string): string {
  const { dir, cleanup } = tmpDir();
  cleanups.push(cleanup);
  writeFileSync(join(dir, 'os-release'), text);
  return join(dir, 'os-release');
}

const redis = { apt: 'redis-server', dnf: 'redis', pacman: 'redis', apk: 'redis', brew: 'redis' };

describe('the install line for this system', () => {
  it('reads the package manager from /etc/os-release (ID, then ID_LIKE) and Homebrew on macOS', () => {
    expect(packageManager('linux', osRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'))).toBe('apt');
    expect(packageManager('linux', osRelease('ID=linuxmint\nID_LIKE="ubuntu debian"\n'))).toBe('apt');
    expect(packageManager('linux', osRelease('ID="fedora"\n'))).toBe('dnf');
    expect(packageManager('linux', osRelease('ID=rocky\nID_LIKE="rhel centos fedora"\n'))).toBe('dnf');
    expect(packageManager('linux', osRelease('ID=unknownix\n'))).toBeNull();
    expect(packageManager('darwin')).toBe('brew');
  });

  it('names the package of that manager, or the Debian and macOS lines when the system is not known', () => {
    expect(installLine(redis, 'apt')).toMatch(/^(sudo )?apt-get install redis-server$/);
    expect(installLine(redis, 'dnf')).toMatch(/^(sudo )?dnf install redis$/);
    expect(installLine(redis, 'brew')).toBe('brew install redis');
    expect(installLine(redis, null)).toBe('apt-get install redis-server (Debian/Ubuntu), brew install redis (macOS)');
  });
});
