/** Durations in the lab definition: `500ms`, `30s`, `15m`, `4h`, `5d`, or combined `1h30m`. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Longest duration accepted: 100 years, so that `now + duration` is always a valid Date (and finite). */
const MAX_MS = 100 * 365 * 86_400_000;

/** Parses a duration; returns null when the text is not one (or is longer than 100 years). */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h|d))+$/.test(trimmed)) return null;
  let total = 0;
  for (const match of trimmed.matchAll(PART)) total += Number(match[1]) * UNIT_MS[match[2]];
  const ms = Math.round(total);
  return ms <= MAX_MS ? ms : null;
}

/** Formats milliseconds the way a person reads them: `4h`, `15m`, `1m30s`, `800ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
