/**
 * Quotes one argument for POSIX sh: safe for any string, including quotes, $,
 * backticks, globs and newlines. Plain words stay readable; `=` is not in the
 * plain set so a quoted word can never become an assignment.
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\/.,:@%+-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
