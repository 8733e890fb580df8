import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../src/shared/shell.js';

/** How a project's dependencies are installed: chosen by its lockfile, as Heroku's Node buildpack does. */
export interface DependencyInstall {
  /** npm, pnpm or yarn: the binary the install needs. */
  tool: 'npm' | 'pnpm' | 'yarn';
  /** The lockfile that chose it (undefined: none, a plain npm install). */
  lockfile?: string;
  /** The install command, as a user would type it. */
  command: string;
  /** A file the install writes last (relative): absent or older than package.json or the lockfile, the install has not run since they changed. */
  marker: string;
  /** The command that adds a package, for hints. */
  add: string;
}

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** package.json's contents, or undefined when there is none or it is not JSON (npm reports that itself). */
export function readPackageJson(directory: string): PackageJson | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as PackageJson) : undefined;
  } catch {
    return undefined;
  }
}

/** Every package name package.json declares, of any kind. */
export function declaredPackages(pkg: PackageJson): string[] {
  const names = (group: unknown) => (group !== null && typeof group === 'object' ? Object.keys(group) : []);
  return [...names(pkg.dependencies), ...names(pkg.devDependencies), ...names(pkg.optionalDependencies)];
}

/** The install a project needs: by its lockfile, npm without one; undefined when package.json declares no dependency. */
export function dependencyInstall(directory: string): DependencyInstall | undefined {
  const pkg = readPackageJson(directory);
  if (!pkg || declaredPackages(pkg).length === 0) return undefined;
  for (const lockfile of ['package-lock.json', 'npm-shrinkwrap.json']) {
    if (existsSync(join(directory, lockfile))) return { tool: 'npm', lockfile, command: 'npm ci', marker: 'node_modules/.package-lock.json', add: 'npm install' };
  }
  if (existsSync(join(directory, 'pnpm-lock.yaml'))) {
    return { tool: 'pnpm', lockfile: 'pnpm-lock.yaml', command: 'pnpm install --frozen-lockfile', marker: 'node_modules/.modules.yaml', add: 'pnpm add' };
  }
  if (existsSync(join(directory, 'yarn.lock'))) {
    // Yarn 2+ (berry) lockfiles carry __metadata; yarn 1 spells "immutable" --frozen-lockfile.
    const berry = readFileSync(join(directory, 'yarn.lock'), 'utf8').includes('__metadata:');
    return berry
      ? { tool: 'yarn', lockfile: 'yarn.lock', command: 'yarn install --immutable', marker: '.yarn/install-state.gz', add: 'yarn add' }
      : { tool: 'yarn', lockfile: 'yarn.lock', command: 'yarn install --frozen-lockfile', marker: 'node_modules/.yarn-integrity', add: 'yarn add' };
  }
  // --no-save: the install writes node_modules, and no package-lock.json the project did not ask for.
  return { tool: 'npm', command: 'npm install --no-save', marker: 'node_modules/.package-lock.json', add: 'npm install' };
}

/**
 * The prepare step: the install, skipped when its marker is newer than
 * package.json and the lockfile (the run that follows an install, or another
 * instance of the same project, finds it done).
 */
export function installStep(install: DependencyInstall): string {
  const marker = shellQuote(install.marker);
  const inputs = ['package.json', ...(install.lockfile ? [install.lockfile] : [])];
  return `test -f ${marker} ${inputs.map((input) => `&& test ! ${marker} -ot ${shellQuote(input)} `).join('')}|| ${install.command}`;
}

/**
 * Node's "Cannot find module 'ms'" (CommonJS) or "Cannot find package 'ms'"
 * (ES modules) in a crash's last lines: what to do about it. Relative paths
 * are the app's own files, not dependencies.
 */
export function missingModuleHint(lines: string[], directory: string): string | undefined {
  let name: string | undefined;
  for (const line of lines) {
    const match = /Cannot find (?:module|package) '([^']+)'/.exec(line);
    if (match && !/^[./]/.test(match[1]!)) name = match[1]!;
  }
  if (name === undefined) return undefined;
  // 'ms/index.js' or '@scope/pkg/sub' → the package.
  const pkgName = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
  if (/^node:/.test(pkgName)) return undefined;
  const pkg = readPackageJson(directory);
  const install = dependencyInstall(directory);
  if (pkg && install && declaredPackages(pkg).includes(pkgName)) {
    return `"${pkgName}" is in package.json but not installed: run paasmaker up --prepare (it runs \`${install.command}\`), or run it yourself`;
  }
  return `"${pkgName}" is not a dependency in package.json: add it with \`${install?.add ?? 'npm install'} ${pkgName}\`; Paasmaker installs dependencies by itself from then on`;
}
