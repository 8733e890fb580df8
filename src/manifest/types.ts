// The resolved manifest's shape lives in src/shared (runtimes and services read it without reaching into the reader).
export type * from '../shared/manifest.js';
