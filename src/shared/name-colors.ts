const NAME_COLORS = ['cyan', 'magenta', 'yellow', 'green', 'blue'] as const;

export type NameColor = (typeof NAME_COLORS)[number];

/** A stable colour per process name, so `web.0` keeps its colour across runs and in every view (lines, the terminal UI). */
export function colorFor(name: string): NameColor {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return NAME_COLORS[hash % NAME_COLORS.length]!;
}
