import { readFileSync } from 'node:fs';

/** A package's name in each package manager Paasmaker can name. */
export interface Packages {
  apt: string;
  dnf?: string;
  pacman?: string;
  apk?: string;
  brew: string;
}

type Manager = keyof Packages;

/** The package manager of this machine: from /etc/os-release (ID, then ID_LIKE) on Linux; Homebrew on macOS. */
export function packageManager(platform: NodeJS.Platform = process.platform, osRelease = '/etc/os-release'): Manager | null {
  if (platform === 'darwin') return 'brew';
  let text = '';
  try {
    text = readFileSync(osRelease, 'utf8');
  } catch {
    return null;
  }
  const value = (key: string) => (new RegExp(`^${key}="?([^"\\n]*)"?`, 'm').exec(text)?.[1] ?? '').toLowerCase().split(/\s+/);
  for (const id of [...value('ID'), ...value('ID_LIKE')]) {
    if (['debian', 'ubuntu'].includes(id)) return 'apt';
    if (['fedora', 'rhel', 'centos'].includes(id)) return 'dnf';
    if (['arch'].includes(id)) return 'pacman';
    if (['alpine'].includes(id)) return 'apk';
  }
  return null;
}

const COMMANDS: Record<Manager, (name: string) => string> = {
  apt: (name) => `apt-get install ${name}`,
  dnf: (name) => `dnf install ${name}`,
  pacman: (name) => `pacman -S ${name}`,
  apk: (name) => `apk add ${name}`,
  brew: (name) => `brew install ${name}`,
};

/**
 * The line that installs a package on this machine ("sudo apt-get install
 * redis-server" on Debian, "brew install redis" on macOS); where the system
 * is not known, the Debian and macOS lines both.
 */
export function installLine(packages: Packages, manager: Manager | null = packageManager()): string {
  const name = manager ? packages[manager] : undefined;
  if (!manager || !name) return `${COMMANDS.apt(packages.apt)} (Debian/Ubuntu), ${COMMANDS.brew(packages.brew)} (macOS)`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return `${manager === 'brew' || root ? '' : 'sudo '}${COMMANDS[manager](name)}`;
}
