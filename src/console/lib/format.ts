/** Small, stable renderings: a missing value is an em dash, never "undefined". */
export const DASH = '—';

/** How long ago (or how soon) an epoch-ms or ISO time is. */
export function ago(time: number | string | null | undefined, now = Date.now()): string {
  const ms = typeof time === 'string' ? Date.parse(time) : time;
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const seconds = Math.round((now - ms) / 1000);
  if (seconds < 0) return `in ${span(-seconds)}`;
  if (seconds < 2) return 'just now';
  return `${span(seconds)} ago`;
}

export function span(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DASH;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let amount = value;
  let unit = 0;
  while (amount >= 1024 && unit < units.length - 1) {
    amount /= 1024;
    unit++;
  }
  return `${amount >= 100 || unit === 0 ? Math.round(amount) : amount.toFixed(1)} ${units[unit]}`;
}

export function rate(value: number): string {
  if (value === 0) return '0';
  return value >= 10 ? String(Math.round(value)) : value.toFixed(1);
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : `${value.toFixed(value >= 10 ? 0 : 1)}%`;
}

export function clock(time: number | string): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toLocaleTimeString([], { hour12: false });
}
