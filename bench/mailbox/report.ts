/**
 * The mailbox benchmark's result as data (bench/results/mailbox.json) and as
 * a printed table: each measurement on our server and on Dovecot, the ratio
 * ours / Dovecot, the aim (within 2x) and ✓ or ✗. For times the ratio is
 * ours ÷ Dovecot (aim ≤ 2); for POP3 throughput it is ours ÷ Dovecot
 * (aim ≥ 0.5), so both read "how far from Dovecot" in the same direction.
 */
import type { GeneratedMailbox } from './generate';
import { FETCH_COMMAND, LISTING_COMMAND, MORE_APPENDS, SEARCH_COMMANDS, type SearchName, type ServerMeasurement } from './measure';

export const AIM_FACTOR = 2;
/** Issue 15: the server's memory while serving a 100,000-message INBOX, MiB (an absolute aim; times are judged as ratios). */
export const AIM_RSS_MIB = 250;

export interface Comparison {
  name: string;
  unit: 'ms' | 'MB/s' | 'MiB';
  ours: number | null;
  dovecot: number | null;
  /** ours / Dovecot. */
  ratio: number | null;
  /** `≤ 2` for times, `≥ 0.5` for throughput; null for informational rows. */
  aim: string | null;
  met: boolean | null;
}

export interface MailboxBenchResult {
  date: string;
  host: { node: string; cpus: number; kernel: string };
  settings: { messages: number; pop3Messages: number; repeats: number; seed: number };
  mailbox: GeneratedMailbox;
  ours: ServerMeasurement | null;
  dovecot: (ServerMeasurement & { version: string }) | null;
  comparisons: Comparison[];
  errors: string[];
  notes: string[];
}

function compare(name: string, unit: Comparison['unit'], ours: number | null, dovecot: number | null, aimed: boolean): Comparison {
  const ratio = ours !== null && dovecot !== null && dovecot > 0 ? ours / dovecot : null;
  if (!aimed) return { name, unit, ours, dovecot, ratio, aim: null, met: null };
  if (unit === 'MiB') return { name, unit, ours, dovecot, ratio, aim: `≤ ${AIM_RSS_MIB} MiB`, met: ours === null ? null : ours <= AIM_RSS_MIB };
  const higherIsBetter = unit === 'MB/s';
  const aim = higherIsBetter ? `≥ ${1 / AIM_FACTOR}` : `≤ ${AIM_FACTOR}`;
  const met = ratio === null ? null : higherIsBetter ? ratio >= 1 / AIM_FACTOR : ratio <= AIM_FACTOR;
  return { name, unit, ours, dovecot, ratio, aim, met };
}

export function comparisons(ours: ServerMeasurement | null, dovecot: ServerMeasurement | null): Comparison[] {
  const rows: Comparison[] = [];
  rows.push(compare('LOGIN + first SELECT (index/parse)', 'ms', ours?.openMs ?? null, dovecot?.openMs ?? null, false));
  rows.push(compare(`SELECT + ${LISTING_COMMAND}, first run`, 'ms', ours?.listing.firstMs ?? null, dovecot?.listing.firstMs ?? null, false));
  rows.push(compare(`SELECT + ${LISTING_COMMAND} (median)`, 'ms', ours?.listing.medianMs ?? null, dovecot?.listing.medianMs ?? null, true));
  rows.push(compare('FETCH headers 1:*, first run', 'ms', ours?.fetch.firstMs ?? null, dovecot?.fetch.firstMs ?? null, false));
  rows.push(compare('FETCH headers 1:* (median)', 'ms', ours?.fetch.medianMs ?? null, dovecot?.fetch.medianMs ?? null, true));
  for (const name of Object.keys(SEARCH_COMMANDS) as SearchName[]) {
    rows.push(compare(`${SEARCH_COMMANDS[name]} (median)`, 'ms', ours?.search[name].medianMs ?? null, dovecot?.search[name].medianMs ?? null, true));
  }
  const n = ours?.pop3.messages ?? dovecot?.pop3.messages ?? '?';
  rows.push(compare('POP3 USER + PASS (median)', 'ms', ours?.pop3.login.medianMs ?? null, dovecot?.pop3.login.medianMs ?? null, true));
  rows.push(compare('POP3 STAT (median)', 'ms', ours?.pop3.stat.medianMs ?? null, dovecot?.pop3.stat.medianMs ?? null, true));
  rows.push(compare('POP3 LIST (median)', 'ms', ours?.pop3.list.medianMs ?? null, dovecot?.pop3.list.medianMs ?? null, true));
  rows.push(compare(`POP3 RETR ×${n}, first pass`, 'MB/s', ours?.pop3.firstMbPerSec ?? null, dovecot?.pop3.firstMbPerSec ?? null, false));
  rows.push(compare(`POP3 RETR ×${n} (median)`, 'MB/s', ours?.pop3.mbPerSec ?? null, dovecot?.pop3.mbPerSec ?? null, true));
  rows.push(compare('APPEND one message to it', 'ms', ours?.append.appendMs ?? null, dovecot?.append.appendMs ?? null, true));
  rows.push(compare(`APPEND ×${MORE_APPENDS} more (median)`, 'ms', ours?.append.moreMedianMs ?? null, dovecot?.append.moreMedianMs ?? null, true));
  rows.push(compare('SELECT after the APPEND', 'ms', ours?.append.selectMs ?? null, dovecot?.append.selectMs ?? null, true));
  rows.push(compare(`${LISTING_COMMAND} after it`, 'ms', ours?.append.listingMs ?? null, dovecot?.append.listingMs ?? null, true));
  rows.push(compare('peak RSS of the server while measured', 'MiB', ours?.peakRssMiB ?? null, dovecot?.peakRssMiB ?? null, false));
  return rows;
}

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - [...s].length));
const lpad = (s: string, n: number) => ' '.repeat(Math.max(0, n - [...s].length)) + s;
const num = (v: number | null, unit: Comparison['unit']) =>
  v === null || !Number.isFinite(v) ? 'n/a' : unit === 'ms' ? `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms` : unit === 'MiB' ? `${v.toFixed(0)} MiB` : `${v.toFixed(1)} MB/s`;

export function formatMailboxReport(r: MailboxBenchResult): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const lines = [
    `Mailbox benchmark: our IMAP/POP3 vs Dovecot${r.dovecot ? ` ${r.dovecot.version.split(' ')[0]}` : ''} (${r.date}, node ${r.host.node}, ${r.host.cpus} CPUs)`,
    `mailbox: ${r.mailbox.messages} messages, ${mb(r.mailbox.wireOctets)} (mbox file ${mb(r.mailbox.fileOctets)}); sizes min ${kb(r.mailbox.sizes.min)}, median ${kb(r.mailbox.sizes.median)}, p90 ${kb(r.mailbox.sizes.p90)}, max ${kb(r.mailbox.sizes.max)}`,
    `FETCH = ${FETCH_COMMAND}`,
    `medians of ${r.settings.repeats} runs after a first one (IMAP commands in one session, POP3 one session per pass); aims on the medians`,
    '',
  ];
  const header = ['', 'ours', 'Dovecot', 'ours/Dovecot', 'aim', ''];
  const rows = r.comparisons.map((c) => [c.name, num(c.ours, c.unit), num(c.dovecot, c.unit), c.ratio === null ? 'n/a' : `${c.ratio.toFixed(2)}×`, c.aim ?? '', c.met === null ? '' : c.met ? '✓' : '✗']);
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((row) => [...row[i]].length)));
  const fmt = (row: string[]) => row.map((cell, i) => (i === 0 ? pad(cell, widths[i]) : lpad(cell, widths[i]))).join('  ').trimEnd();
  lines.push(fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  const hits = (m: ServerMeasurement | null) => (m ? (Object.keys(m.search) as SearchName[]).map((n) => `${n} ${m.search[n].hits}`).join(', ') : 'n/a');
  lines.push('', `search hits: ours ${hits(r.ours)}; Dovecot ${hits(r.dovecot)}; generated ${Object.entries(r.mailbox.expected).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const e of r.errors) lines.push(`error: ${e}`);
  return lines.join('\n');
}
