/**
 * The tasks read from the queue's records of the messages a student sent
 * (their attempts, deferrals, deliveries, returns and notices):
 * cross-domain-delivery, queue-retry, returned-mail, delay-warning and
 * dns-outage. Why an attempt was deferred is read from its words
 * ({@link deferKind}).
 */
import type { ActivityMessage } from '../../admin/api';
import { domainOf, done, notYet, partly, type Rule } from '../rule';
import type { StudentView } from '../student';
import { clock, plural } from '../words';

/** Why the queue waited: DNS had no answer, greylisting, another 4xx reply, or no connection (a broken link). */
export function deferKind(detail: string): 'dns' | 'greylist' | 'reply' | 'connection' {
  if (/greylist/i.test(detail)) return 'greylist';
  if (/MX lookup|DNS lookup|ESERVFAIL|ETIMEOUT|ENOTFOUND|ENODATA|\bDNS\b/i.test(detail)) return 'dns';
  if (/said: 4\d\d/.test(detail)) return 'reply';
  return 'connection';
}

const remote = (m: ActivityMessage) => m.recipients.filter((r) => !r.local);
const who = (m: ActivityMessage) => `${m.from} → ${remote(m).map((r) => r.address).join(', ') || m.recipients.map((r) => r.address).join(', ')}`;
const deferrals = (m: ActivityMessage, kind?: ReturnType<typeof deferKind>) => m.attempts.filter((a) => a.result === 'deferred' && (!kind || deferKind(a.detail) === kind));
const deliveredAt = (m: ActivityMessage) => remote(m).find((r) => r.status === 'delivered')?.doneAt;

/** How a message came back to its sender: returned by the administrator, at the end of its lifetime, or refused (5xx). */
function returned(m: ActivityMessage): { how: 'admin' | 'lifetime' | 'refused'; time?: string } | null {
  const r = m.recipients.find((x) => x.status === 'bounced');
  if (!r) return null;
  const attempt = m.attempts.find((a) => a.result === 'bounced');
  if (attempt && /expired by the administrator/.test(attempt.detail)) return { how: 'admin', time: attempt.time };
  if (!attempt) return { how: 'lifetime', time: r.doneAt };
  return { how: 'refused', time: attempt.time };
}

/** The notice (delay warning or returned mail) the queue sent the sender about `m`: its Message-ID is `<queue id.kind.…@host>` (queue/dsn.ts). */
function notice(v: StudentView, m: ActivityMessage, kind: 'delay' | 'failure'): ActivityMessage | undefined {
  const prefix = `<${m.queueId}.${kind}.`;
  return v.records.messages.find((n) => n.from === '' && n.domain === m.domain && !!n.messageId?.startsWith(prefix));
}

export const crossDomainDelivery: Rule = (v) => {
  const lab = v.records.config.domains.map((d) => d.name);
  const directions = new Map<string, string>();
  for (const m of v.messages) {
    for (const r of remote(m)) {
      const to = domainOf(r.address);
      const key = `${m.domain} → ${to}`;
      if (r.status !== 'delivered' || !lab.includes(to) || to === m.domain || directions.has(key)) continue;
      directions.set(key, `${m.from} → ${r.address} sent at ${clock(m.time)}, delivered by ${m.domain} to the server of ${to} at ${clock(r.doneAt ?? m.time)} (queue ${m.queueId})`);
    }
  }
  const wanted = lab.flatMap((a) => lab.filter((b) => b !== a).map((b) => [a, b]));
  const missing = wanted.filter(([a, b]) => !directions.has(`${a} → ${b}`)).map(([a, b]) => `a message from ${a} to ${b}, sent logged in on ${a}'s submission port (587), delivered`);
  if (!directions.size) return notYet(missing);
  return missing.length ? partly([...directions.values()], missing) : done([...directions.values()]);
};

export const queueRetry: Rule = (v) => {
  const waited = v.messages.filter((m) => remote(m).length && deferrals(m, 'connection').length);
  const ok = waited.find((m) => deliveredAt(m));
  const story = (m: ActivityMessage) => {
    const d = deferrals(m, 'connection');
    return `${who(m)} sent at ${clock(m.time)}, deferred ${plural(d.length, 'time')} (${d[0].detail})`;
  };
  if (ok) return done([`${story(ok)}, delivered at ${clock(deliveredAt(ok)!)} after ${plural(ok.attempts.length, 'attempt')} (queue ${ok.queueId})`]);
  const m = waited[0];
  if (!m) return notYet(['a message to the other domain while the link is broken: deferred, retried, then delivered after heal']);
  if (m.queued) return partly([`${story(m)}, still in the queue (queue ${m.queueId})`], ['its delivery once the link is back (heal, then wait for the retry or flush)']);
  return partly([`${story(m)}, then returned to the sender (queue ${m.queueId})`], ['a delivery after the link is healed (this one was returned: heal before its lifetime ends)']);
};

export const returnedMail: Rule = (v) => {
  const back = v.messages.map((m) => ({ m, r: returned(m) })).filter((x) => x.r && (x.r.how !== 'refused' || deferrals(x.m).length));
  const x = back[0];
  if (x) {
    const report = notice(v, x.m, 'failure');
    const how = x.r!.how === 'admin' ? 'returned by the administrator (expire)' : x.r!.how === 'lifetime' ? 'returned at the end of its lifetime' : 'refused by the other server after waiting';
    return done([
      `${who(x.m)} waited in the queue from ${clock(x.m.time)} (${plural(deferrals(x.m).length, 'deferral')}), ${how} at ${clock(x.r!.time ?? x.m.time)} (queue ${x.m.queueId})`,
      ...(report ? [`the report "Undelivered Mail Returned to Sender" was put in ${x.m.from}'s mailbox at ${clock(report.time)}`] : []),
    ]);
  }
  const waiting = v.messages.find((m) => m.queued && deferrals(m).length);
  if (waiting) return partly([`${who(waiting)} is waiting in the queue since ${clock(waiting.time)} (queue ${waiting.queueId})`], [`its return to the sender: \`npx mail-lab expire ${waiting.domain} ${waiting.queueId}\`, or the end of its lifetime`]);
  return notYet(['a message that cannot be delivered (link broken), returned to its sender (expire, or the end of its lifetime)']);
};

export const delayWarning: Rule = (v) => {
  const warned = v.messages.filter((m) => m.warned);
  const both = warned.find((m) => returned(m)?.how === 'lifetime');
  const warning = (m: ActivityMessage) => {
    const n = notice(v, m, 'delay');
    return `${who(m)} sent at ${clock(m.time)}; the delay warning ("Delayed Mail (still being retried)") was sent${n ? ` at ${clock(n.time)}` : ''}`;
  };
  if (both) return done([`${warning(both)}; returned at the end of its lifetime at ${clock(returned(both)!.time ?? both.time)} after ${plural(both.attempts.length, 'attempt')} (queue ${both.queueId})`]);
  if (warned[0]) return partly([`${warning(warned[0])} (queue ${warned[0].queueId})`], ['its return at the end of its lifetime (the warning is not the end: the message is still retried)']);
  const early = v.messages.map((m) => ({ m, r: returned(m) })).find((x) => x.r && x.r.how !== 'refused');
  if (early) return partly([`${who(early.m)} was returned at ${clock(early.r!.time ?? early.m.time)} without a delay warning first (queue ${early.m.queueId})`], ['the delay warning before the return (it comes after warnAfter: 30 s with the demo profile)']);
  return notYet(['a message that waits long enough for the delay warning, then is returned (demo profile: 30 s, then 90 s)']);
};

export const dnsOutage: Rule = (v) => {
  const hit = v.messages.filter((m) => deferrals(m, 'dns').length);
  const asked = v.dns.filter((q) => q.rcode === 'SERVFAIL' || q.rcode === 'DROPPED');
  const extra = asked.length ? [`the broken DNS answered you too: ${asked[0].type} ${asked[0].name} → ${asked[0].rcode} at ${clock(asked[0].time)}${asked.length > 1 ? ` (and ${asked.length - 1} more)` : ''}`] : [];
  const story = (m: ActivityMessage) => {
    const d = deferrals(m, 'dns');
    return `${who(m)} sent at ${clock(m.time)}, deferred ${plural(d.length, 'time')} because DNS did not answer (${[...new Set(d.map((a) => a.detail))].join('; ')})`;
  };
  const ok = hit.find((m) => deliveredAt(m) && !returned(m));
  if (ok) return done([`${story(ok)}, delivered at ${clock(deliveredAt(ok)!)} (queue ${ok.queueId}), not returned`, ...extra]);
  const m = hit[0];
  const wanted = 'a message to the other domain while its DNS fails (dns-servfail or dns-down): deferred, not returned, delivered after the repair';
  if (!m) return extra.length ? partly(extra, [wanted]) : notYet([wanted]);
  if (m.queued) return partly([`${story(m)}, still in the queue (queue ${m.queueId})`, ...extra], ['its delivery once DNS answers again (clear the fault, then flush)']);
  return partly([`${story(m)}, then returned (queue ${m.queueId})`, ...extra], ['a delivery after DNS is repaired (this one was returned: repair before its lifetime ends)']);
};
