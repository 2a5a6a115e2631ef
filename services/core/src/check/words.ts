/**
 * Small wording helpers for the check's evidence lines: clock times in the
 * teacher's local time, pauses in seconds, lists and plurals, a session's
 * place ("on dadali.com port 25 from 10.0.0.7").
 */
import type { Session } from './records';

const two = (n: number) => String(n).padStart(2, '0');

/** `10:42:05`, local time of the machine running the check. */
export function clock(t: string | number): string {
  const d = new Date(t);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `0.02 s`, `3.4 s`, `12 s`. */
export function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 1 ? `${s.toFixed(2)} s` : s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `a, b and c`. */
export function and(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** `on dadali.com port 25 from 127.0.0.1`. */
export const where = (s: Session) => `on ${s.domain} port ${s.port} from ${s.peer}`;

/** How a session was typed, for the evidence: `pauses of about 3.2 s between commands`, or a program's. */
export function pace(s: Session): string {
  return s.typed ? `typed: pauses of about ${seconds(s.pauseMs)} between commands` : `sent by a program (pauses of ${seconds(s.pauseMs)} between commands)`;
}

/** The command lines of a session, shortened: `HELO pc-siswa, MAIL FROM:<a@b>, …`. */
export function lines(cmds: { line: string }[], max = 12): string {
  const shown = cmds.slice(0, max).map((c) => (c.line.length > 60 ? c.line.slice(0, 59) + '…' : c.line));
  return shown.join(', ') + (cmds.length > max ? `, … (${cmds.length} commands)` : '');
}
