import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/shared/shell.js';

/** Runs `printf %s <quoted>` through /bin/sh and returns what the shell saw as one argument. */
async function roundTrip(arg: string): Promise<string> {
  const { stdout } = await execa('/bin/sh', ['-c', `printf '%s' ${shellQuote(arg)}`], { stripFinalNewline: false });
  return stdout;
}

const hostile = [
  '',
  ' ',
  'plain-word_1.2/x:y@z%+,',
  "it's",
  "''",
  "'\\''",
  '"double" quotes',
  '$HOME ${PATH} $(id) `id`',
  'a; rm -rf /tmp/never-here; echo b',
  'x && y || z | w & v',
  '* ? [a-z] ~ {a,b}',
  'line one\nline two\n',
  'tab\there',
  'back\\slash\\',
  '-n',
  'FOO=bar',
  '#not a comment',
  '!history',
  'ünïcödé ☃',
  '> /tmp/redirected < in 2>&1',
];

describe('shellQuote', () => {
  it.each(hostile.map((value) => [JSON.stringify(value), value]))('keeps %s as one literal argument', async (_, value) => {
    expect(await roundTrip(value)).toBe(value);
  });

  it('leaves plain words readable and quotes everything else', () => {
    expect(shellQuote('/usr/bin/python3')).toBe('/usr/bin/python3');
    expect(shellQuote('/home/me/My Projects')).toBe(`'/home/me/My Projects'`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
  });

  it('never lets a quoted word become an assignment or a command', async () => {
    const { stdout } = await execa('/bin/sh', ['-c', `${shellQuote('FOO=bar')} 2>/dev/null; echo "[$FOO]"`], { reject: false });
    expect(stdout).toBe('[]');
  });
});
