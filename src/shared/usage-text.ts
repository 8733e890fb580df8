/** Resident memory as a listing shows it: 512K, 42M, 1.2G; "-" when unknown. */
export function memoryText(bytes: number | null): string {
  if (bytes === null) return '-';
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)}G`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)}M`;
  return `${Math.round(bytes / 1024)}K`;
}

/** CPU as a listing shows it: percent of one core, one decimal below 100 (0.4%, 12.5%, 180%); "-" when unknown. */
export function cpuText(cpu: number | null): string {
  if (cpu === null) return '-';
  return `${cpu >= 100 ? Math.round(cpu) : Math.round(cpu * 10) / 10}%`;
}

/** A byte count as the listings print it: 512 B, 3.4 KiB, 1.2 MiB; '-' when unknown. */
export function byteSize(n: number | null): string {
  if (n === null) return '-';
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
