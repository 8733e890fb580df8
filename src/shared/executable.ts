/**
 * Paasmaker run as one executable file (npm run build:exe): its loader
 * (scripts/exe/loader.cjs) sets this before the platform loads. Undefined when
 * it runs from the npm package.
 */
export interface Executable {
  version: string;
  /** PAASMAKER_HOME/cache/exe-<version>-<hash>: the unpacked platform. */
  root: string;
}

export function executable(): Executable | undefined {
  return (globalThis as { __paasmakerExe?: Executable }).__paasmakerExe;
}

/**
 * The command that runs this same Paasmaker again: the executable alone (it
 * is its own script; process.execPath is the real file even when started
 * through a symlink), or node and the bin script of the package.
 */
export function selfCommand(nodeOptions: readonly string[] = []): string[] {
  return executable() ? [process.execPath] : [process.execPath, ...nodeOptions, process.argv[1]!];
}
