/**
 * Scenario steps about the queue's timings and the notices it sends:
 *
 *   queue-profile: { domain, profile }
 *     switches the domain's queue profile at run time, as
 *     `npx mail-lab queue-profile <domain> <profile>` does (admin API
 *     `POST /queue/profile/<name>`). The first switch of a domain in a run
 *     remembers the profile in force before it: if the scenario fails, the
 *     runner puts that one back (`queueProfileUndo`), as it heals links.
 *   expect-report: { domain, user, id, action, count, within }
 *     an RFC 3464 delivery status notification about queue id `id` in the
 *     user's mailbox with `Action: delayed` (the delay warning) or `failed`
 *     (the message returned); shows its main fields to the class.
 *
 * Their texts, in English and Indonesian, live here; `expect-queue`'s
 * `attempts:` (at least that many attempts) is checked in steps.ts and
 * explained by `attemptsShortfall`.
 */
import { formatDuration } from '../../services/core/src/duration';
import { MAIL_API, type QueueProfileInfo } from '../../services/core/src/admin/api';
import type { Lang } from './lang';
import type { Step } from './schema';
import type { StepContext, StepResult } from './step-types';

type QueueProfileStep = Extract<Step, Record<'queue-profile', unknown>>;
type ExpectReportStep = Extract<Step, Record<'expect-report', unknown>>;

const timings = (p: QueueProfileInfo) => `retry every ${formatDuration(p.retryInterval)}, warn after ${formatDuration(p.warnAfter)}, return after ${formatDuration(p.returnAfter)}`;
const waktu = (p: QueueProfileInfo) => `coba ulang setiap ${formatDuration(p.retryInterval)}, peringatan setelah ${formatDuration(p.warnAfter)}, dikembalikan setelah ${formatDuration(p.returnAfter)}`;

const texts = {
  en: {
    describeProfile: (d: string, p: string) => `switch the queue of ${d} to profile ${p} (npx mail-lab queue-profile ${d} ${p})`,
    describeReport: (address: string, action: string) => `look for the delivery report (Action: ${action}) in the mailbox of ${address}`,
    switched: (d: string, from: string, p: QueueProfileInfo) => `${d}: queue profile ${from} -> ${p.name} (${timings(p)})`,
    unchanged: (d: string, p: QueueProfileInfo) => `${d} already uses profile ${p.name} (${timings(p)})`,
    moved: (queued: number, n: number) =>
      `${queued} message(s) in the queue take the new timings: warning and return count from their arrival, the next attempt from the last one (moved for ${n})`,
    report: (n: number, id: string, user: string) => `${n} report(s) about ${id} in ${user}'s mailbox:`,
    noReport: (action: string, id: string, address: string, found: number, want: number, within: string) =>
      `expected ${want} delivery report(s) with Action: ${action} about ${id} in ${address}, found ${found} within ${within}`,
    fewerAttempts: (id: string, d: string, want: number, got: number | null, within: string) =>
      got === null ? `${id} is not waiting in the queue of ${d}` : `${id} has had ${got} delivery attempt(s) in the queue of ${d}, expected at least ${want} within ${within}`,
  },
  id: {
    describeProfile: (d: string, p: string) => `ganti profil antrian ${d} menjadi ${p} (npx mail-lab queue-profile ${d} ${p})`,
    describeReport: (address: string, action: string) => `cari laporan pengiriman (Action: ${action}) di kotak surat ${address}`,
    switched: (d: string, from: string, p: QueueProfileInfo) => `${d}: profil antrian ${from} -> ${p.name} (${waktu(p)})`,
    unchanged: (d: string, p: QueueProfileInfo) => `${d} memang sudah memakai profil ${p.name} (${waktu(p)})`,
    moved: (queued: number, n: number) =>
      `${queued} pesan di antrian memakai waktu yang baru: peringatan dan pengembalian dihitung dari saat pesan tiba, percobaan berikutnya dari percobaan terakhir (digeser untuk ${n} pesan)`,
    report: (n: number, id: string, user: string) => `${n} laporan tentang ${id} di kotak surat ${user}:`,
    noReport: (action: string, id: string, address: string, found: number, want: number, within: string) =>
      `seharusnya ada ${want} laporan pengiriman dengan Action: ${action} tentang ${id} di ${address}, yang ditemukan ${found} dalam ${within}`,
    fewerAttempts: (id: string, d: string, want: number, got: number | null, within: string) =>
      got === null ? `${id} tidak sedang menunggu di antrian ${d}` : `${id} baru ${got} kali dicoba di antrian ${d}, seharusnya paling sedikit ${want} kali dalam ${within}`,
  },
} satisfies Record<Lang, unknown>;

/** For each run (StepContext): the profile each domain had before the run first switched it. */
const originals = new WeakMap<StepContext, Map<string, string>>();

/** One line saying what a queue step does; undefined for other steps. */
export function describeQueueStep(lang: Lang, step: Step, f: (t: string) => string): string | undefined {
  if ('queue-profile' in step) return texts[lang].describeProfile(step['queue-profile'].domain, step['queue-profile'].profile);
  if ('expect-report' in step) return texts[lang].describeReport(`${step['expect-report'].user}@${step['expect-report'].domain}`, step['expect-report'].action);
  void f;
  return undefined;
}

export async function runQueueProfileStep(ctx: StepContext, step: QueueProfileStep): Promise<StepResult> {
  const { domain, profile } = step['queue-profile'];
  const t = texts[ctx.lang ?? 'en'];
  const before = await ctx.target.mail(domain).call(MAIL_API.queueProfile);
  const seen = originals.get(ctx) ?? new Map<string, string>();
  originals.set(ctx, seen);
  if (!seen.has(domain)) seen.set(domain, before.name);
  const r = await ctx.target.mail(domain).call(MAIL_API.setQueueProfile, { name: profile });
  if (!r.changed) return { status: 'ok', detail: [t.unchanged(domain, r.profile)] };
  return { status: 'ok', detail: [t.switched(domain, r.previous, r.profile), ...(r.queued ? [t.moved(r.queued, r.rescheduled)] : [])] };
}

/**
 * After a failure: steps that put back the profile each domain had before
 * the scenario's first `queue-profile` for it (harmless if the scenario had
 * already switched it back).
 */
export function queueProfileUndo(ctx: StepContext): Step[] {
  return [...(originals.get(ctx) ?? new Map<string, string>())].map(([domain, profile]) => ({ 'queue-profile': { domain, profile } }));
}

/** The failure text of `expect-queue` with `attempts:` that did not reach that count. */
export async function attemptsShortfall(ctx: StepContext, domain: string, id: string, want: number, within: string): Promise<string> {
  const q = await ctx.target.mail(domain).call(MAIL_API.queue);
  return texts[ctx.lang ?? 'en'].fewerAttempts(id, domain, want, q.find((x) => x.id === id)?.attempts ?? null, within);
}

/** Messages of an mbox file (`From ` separator lines, as the store writes them). */
function mboxMessages(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/(?:^|\n)(?=From \S+ )/)
    .filter((m) => m.startsWith('From '));
}

/** The RFC 3464 fields worth showing (RFC 3464 2.2, 2.3): per-message and per-recipient. */
const SHOWN = /^(Subject|From|Reporting-MTA|Arrival-Date|Final-Recipient|Action|Status|Diagnostic-Code|Last-Attempt-Date|Will-Retry-Until): /;

export async function runExpectReportStep(ctx: StepContext, step: ExpectReportStep, fill: (t: string) => string, wait: (ms: number) => Promise<unknown>, withinMs: number): Promise<StepResult> {
  const e = step['expect-report'];
  const id = fill(e.id);
  const t = texts[ctx.lang ?? 'en'];
  const reports = async () => {
    const { text } = await ctx.target.mail(e.domain).call(MAIL_API.mailbox, { user: e.user });
    return mboxMessages(text).filter((m) => new RegExp(`^X-Queue-ID: ${id}$`, 'm').test(m) && new RegExp(`^Action: ${e.action}$`, 'm').test(m));
  };
  const deadline = Date.now() + withinMs;
  let found = await reports();
  while (found.length < e.count && Date.now() < deadline) {
    await wait(250);
    found = await reports();
  }
  if (found.length >= e.count && e.count > 0) {
    await wait(1000); // a second notice would come right behind the first
    found = await reports();
  }
  if (found.length !== e.count) throw new Error(t.noReport(e.action, id, `${e.user}@${e.domain}`, found.length, e.count, e.within));
  const detail = [t.report(found.length, id, e.user)];
  if (found.length) {
    const unfolded = found[0].replace(/\n[ \t]+/g, ' ').split('\n');
    // The first of each field: the report's own Subject and From, not those of the returned headers.
    const seen = new Set<string>();
    for (const l of unfolded.filter((x) => SHOWN.test(x))) {
      const field = l.slice(0, l.indexOf(':'));
      if (!seen.has(field)) detail.push(`  ${l}`);
      seen.add(field);
    }
  }
  return { status: 'ok', detail };
}
