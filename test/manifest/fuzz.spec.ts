import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseManifest, type ManifestKind } from '../../src/manifest/index.js';
import { PaasmakerError } from '../../src/shared/errors.js';

/**
 * Property: whatever bytes a manifest holds, reading it gives a manifest or a
 * positioned error (a line and column inside the file), never another
 * exception, and never takes a second. Valid documents are generated, then
 * mutated the ways files really break and the ways attackers break them.
 * FUZZ_SEED=<n> replays a failure with the seed fast-check reports.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const FILES: Record<ManifestKind, string> = { 'paasmaker.yml': '/nonexistent/fuzz/paasmaker.yml', 'manifest.yml': '/nonexistent/fuzz/manifest.yml', Procfile: '/nonexistent/fuzz/Procfile' };

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);
const word = fc.stringMatching(/^[A-Za-z0-9 ._/-]{1,20}$/);
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}$/);
const command = fc.constantFrom('node server.js', 'python3 app.py --port $PORT', 'npm start', './run.sh', 'sh -c "echo hi; sleep 1"');
const path = fc.stringMatching(/^\/[a-z0-9/._-]{0,20}$/);
const hostname = fc.stringMatching(/^(\*\.)?[a-z][a-z0-9]{0,8}\.localhost$/);
const schedule = fc.constantFrom('* * * * *', '*/5 * * * *', '0 3 * * 1', '*/10 * * * * *');

const instance = fc.record(
  {
    command,
    quantity: fc.integer({ min: 1, max: 64 }),
    environment: fc.dictionary(envName, fc.oneof(word, fc.integer(), fc.boolean()), { maxKeys: 6 }),
    hostnames: fc.array(hostname, { maxLength: 3 }),
    health: fc.record({ path, timeout: fc.integer({ min: 1, max: 60 }) }, { requiredKeys: [] }),
    standalone: fc.boolean(),
    crons: fc.array(fc.oneof(fc.record({ schedule, uri: path }), fc.record({ schedule, command })), { maxLength: 2 }),
    prepare: fc.array(command, { maxLength: 2 }),
    watch: fc.boolean(),
  },
  { requiredKeys: ['command'] },
);

const paasmakerYml = fc
  .record({
    application: fc.record({ name }),
    instances: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), instance, { minKeys: 1, maxKeys: 3 }),
    services: fc.dictionary(fc.stringMatching(/^s[a-z0-9]{0,8}$/), fc.oneof(fc.constantFrom('postgres', 'redis', 'sqlite'), fc.record({ plugin: fc.constantFrom('postgres', 'mysql') })), { maxKeys: 2 }),
  })
  .map((manifest) => stringify(manifest));

const format1 = fc
  .record({
    manifest: fc.constant({ format: 1 }),
    application: fc.record({ name, prepare: fc.record({ commands: fc.array(command, { maxLength: 2 }) }) }),
    instances: fc.uniqueArray(
      fc.record(
        {
          name: fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/),
          quantity: fc.integer({ min: 1, max: 4 }),
          runtime: fc.record({ plugin: fc.constantFrom('paasmaker.runtime.shell', 'paasmaker.runtime.python'), parameters: fc.record({ launch_command: command }), version: fc.constant(1) }),
          hostnames: fc.array(hostname, { maxLength: 2 }),
          crons: fc.array(fc.record({ runspec: schedule, uri: path }), { maxLength: 2 }),
        },
        { requiredKeys: ['name', 'runtime'] },
      ),
      { minLength: 1, maxLength: 3, selector: (entry) => entry.name },
    ),
    services: fc.uniqueArray(fc.record({ name: fc.stringMatching(/^s[a-z0-9]{0,6}$/), plugin: fc.constantFrom('paasmaker.service.managedpostgres', 'paasmaker.service.managedredis') }), { maxLength: 2, selector: (entry) => entry.name }),
  })
  .map((manifest) => stringify(manifest));

const procfile = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), command), { minLength: 1, maxLength: 4, selector: ([type]) => type })
  .map((rows) => rows.map(([type, line]) => `${type}: ${line}`).join('\n') + '\n');

const BILLION_LAUGHS = ['x0: &x0 [a, a, a, a, a, a, a, a, a, a]', ...Array.from({ length: 8 }, (_, level) => `x${level + 1}: &x${level + 1} [${Array(10).fill(`*x${level}`).join(', ')}]`)].join('\n');
const ODD = ['\t', '\u0000', '\ufeff', '\u2028', '\u00a0', '\ud800', '\r', '\r\n', '#', ':', '- ', '? ', '&', '*', '!', '|', '>', '%', '@', '`', '"', "'", '{', '}', '[', ']', ',', '\u202e', '💥'];

type Mutation = (text: string) => string;
const at = (text: string, position: number) => Math.min(text.length, Math.floor(position * (text.length + 1)));
const linesOf = (text: string) => text.split('\n');
const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A byte flipped, inserted or removed.
  fc.tuple(fraction, fc.integer({ min: 0, max: 255 })).map(([p, byte]): Mutation => (text) => { const i = at(text, p); return text.slice(0, i) + String.fromCharCode(byte) + text.slice(i + 1); }),
  fc.tuple(fraction, fc.constantFrom(...ODD)).map(([p, odd]): Mutation => (text) => { const i = at(text, p); return text.slice(0, i) + odd + text.slice(i); }),
  fc.tuple(fraction, fc.string({ unit: 'binary', maxLength: 4 })).map(([p, chars]): Mutation => (text) => { const i = at(text, p); return text.slice(0, i) + chars + text.slice(i); }),
  fc.tuple(fraction, fc.integer({ min: 1, max: 8 })).map(([p, n]): Mutation => (text) => { const i = at(text, p); return text.slice(0, i) + text.slice(i + n); }),
  // A line deleted, duplicated, or moved.
  fraction.map((p): Mutation => (text) => { const rows = linesOf(text); rows.splice(Math.floor(p * rows.length), 1); return rows.join('\n'); }),
  fraction.map((p): Mutation => (text) => { const rows = linesOf(text); const i = Math.floor(p * rows.length); rows.splice(i, 0, rows[i]!); return rows.join('\n'); }),
  fc.tuple(fraction, fraction).map(([p, q]): Mutation => (text) => { const rows = linesOf(text); const [row] = rows.splice(Math.floor(p * rows.length), 1); rows.splice(Math.floor(q * rows.length), 0, row!); return rows.join('\n'); }),
  // Indentation by tabs, or shifted.
  fraction.map((p): Mutation => (text) => { const rows = linesOf(text); const i = Math.floor(p * rows.length); rows[i] = rows[i]!.replace(/^ +/, '\t'); return rows.join('\n'); }),
  fc.tuple(fraction, fc.integer({ min: -4, max: 4 })).map(([p, shift]): Mutation => (text) => { const rows = linesOf(text); const i = Math.floor(p * rows.length); rows[i] = shift > 0 ? ' '.repeat(shift) + rows[i] : rows[i]!.slice(-shift); return rows.join('\n'); }),
  // Anchors and aliases: a value anchored, an alias elsewhere, an alias to itself, a billion laughs.
  fc.tuple(fraction, fraction).map(([p, q]): Mutation => (text) => { const rows = linesOf(text); const i = Math.floor(p * rows.length); const j = Math.floor(q * rows.length); rows[i] = rows[i]!.replace(/: (.+)$/, ': &a $1'); rows[j] = rows[j]!.replace(/: (.+)$/, ': *a'); return rows.join('\n'); }),
  fraction.map((p): Mutation => (text) => { const rows = linesOf(text); const i = Math.floor(p * rows.length); rows[i] = rows[i]!.replace(/:( |$)/, ': &s [*s]$1'); return rows.join('\n'); }),
  fc.constantFrom<Mutation>((text) => `${BILLION_LAUGHS}\n${text}`, (text) => `${text}\nbomb: ${BILLION_LAUGHS.split('\n').pop()!.replace(/^x8: /, '')}\n`.replace(/^/, `${BILLION_LAUGHS}\n`), (text) => text.replace(/: (\S+)$/m, ': &v $1') + `\nmore: [${Array(200).fill('*v').join(', ')}]\n`),
  // Huge scalars and deep nesting.
  fc.tuple(fraction, fc.integer({ min: 1_000, max: 400_000 })).map(([p, size]): Mutation => (text) => { const rows = linesOf(text); const i = Math.floor(p * rows.length); rows[i] = rows[i]!.replace(/: .*$/, `: ${'x'.repeat(size)}`); return rows.join('\n'); }),
  fc.tuple(fraction, fc.integer({ min: 10, max: 5_000 })).map(([p, depth]): Mutation => (text) => { const rows = linesOf(text); const i = Math.floor(p * rows.length); rows[i] = rows[i]!.replace(/: .*$/, `: ${'['.repeat(depth)}${']'.repeat(depth)}`); return rows.join('\n'); }),
  fc.integer({ min: 10, max: 300 }).map((depth): Mutation => (text) => `${text}\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} v\n`),
  // Wrong types where values were.
  fc.tuple(fraction, fc.constantFrom('[1, 2]', '{}', '~', '123', 'true', '-1', '.inf', '.nan', '0x1F', '"/health check"', '"http://x:1/"', '!!binary aGk=', '2001-12-14', '"a\\0b"', "''", '|\n  block')).map(([p, value]): Mutation => (text) => { const rows = linesOf(text); const i = Math.floor(p * rows.length); rows[i] = rows[i]!.replace(/: .*$/, `: ${value}`); return rows.join('\n'); }),
  // Documents and directives.
  fc.constantFrom<Mutation>((text) => `---\n${text}\n---\n${text}`, (text) => `%YAML 1.1\n---\n${text}`, (text) => `%YAML 9.9\n---\n${text}`, (text) => text.replace(/\n/g, '\r\n'), (text) => text.replace(/\n/g, '\r'), (text) => `\ufeff${text}`, () => '', () => '\n\n'),
);

/** Reads text as a manifest; fails the property on anything but a manifest or a positioned error inside the file. */
function readOrPositionedError(text: string, kind: ManifestKind): void {
  const file = FILES[kind];
  const started = performance.now();
  try {
    const manifest = parseManifest(text, file, kind);
    expect(manifest.instances.length).toBeGreaterThan(0);
    expect(typeof manifest.application.name).toBe('string');
  } catch (error) {
    if (!(error instanceof PaasmakerError)) throw new Error(`not a positioned error: ${(error as Error)?.stack ?? String(error)}`);
    expect(error.code).toBe('MANIFEST_INVALID');
    const where = new RegExp(`^${file.replace(/[.]/g, '\\.')}:(\\d+):(\\d+): .+`).exec(error.message);
    expect(where, error.message.slice(0, 300)).not.toBeNull();
    const [line, col] = [Number(where![1]), Number(where![2])];
    const rows = text.split(/\r\n|\r|\n/);
    expect(line).toBeGreaterThanOrEqual(1);
    expect(line).toBeLessThanOrEqual(rows.length);
    expect(col).toBeGreaterThanOrEqual(1);
    expect(col).toBeLessThanOrEqual(Math.max(1, rows[line - 1]!.length + 1));
  }
  expect(performance.now() - started).toBeLessThan(1_000);
}

const documents = (valid: fc.Arbitrary<string>) => fc.tuple(valid, fc.array(mutation, { maxLength: 3 })).map(([text, mutations]) => mutations.reduce((doc, mutate) => mutate(doc), text));

describe('manifest readers under fuzzing: a manifest or a positioned error, never a crash', () => {
  it.each([
    ['paasmaker.yml', paasmakerYml, 600],
    ['manifest.yml', format1, 250],
    ['Procfile', procfile, 250],
  ] as const)('%s: generated and mutated documents', (kind, valid, numRuns) => {
    fc.assert(
      fc.property(documents(valid), (text) => readOrPositionedError(text, kind)),
      { numRuns, seed: SEED },
    );
  });

  it('the generators make valid manifests, so the mutations start from real ones', () => {
    for (const [kind, valid] of [['paasmaker.yml', paasmakerYml], ['manifest.yml', format1], ['Procfile', procfile]] as const) {
      for (const text of fc.sample(valid, { numRuns: 30, seed: SEED })) expect(parseManifest(text, FILES[kind], kind).instances.length).toBeGreaterThan(0);
    }
  });
});
