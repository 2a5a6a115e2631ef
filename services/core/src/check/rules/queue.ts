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
import { clock } from '../words';

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

export const crossDomainDelivery: Rule = (v, w) => {
  const lab = v.records.config.domains.map((d) => d.name);
  const directions = new Map<string, string>();
  for (const m of v.messages) {
    for (const r of remote(m)) {
      const to = domainOf(r.address);
      const key = `${m.domain} → ${to}`;
      if (r.status !== 'delivered' || !lab.includes(to) || to === m.domain || directions.has(key)) continue;
      directions.set(
        key,
        w.t(
          `${m.from} → ${r.address} sent at ${clock(m.time)}, delivered by ${m.domain} to the server of ${to} at ${clock(r.doneAt ?? m.time)} (queue ${m.queueId})`,
          `${m.from} → ${r.address} dikirim pukul ${clock(m.time)}, diantar oleh ${m.domain} ke server ${to} pukul ${clock(r.doneAt ?? m.time)} (antrian ${m.queueId})`,
        ),
      );
    }
  }
  const wanted = lab.flatMap((a) => lab.filter((b) => b !== a).map((b) => [a, b]));
  const missing = wanted
    .filter(([a, b]) => !directions.has(`${a} → ${b}`))
    .map(([a, b]) => w.t(`a message from ${a} to ${b}, sent logged in on ${a}'s submission port (587), delivered`, `surat dari ${a} ke ${b}, dikirim dengan login di port submission ${a} (587), sampai terkirim`));
  if (!directions.size) return notYet(missing);
  return missing.length ? partly([...directions.values()], missing) : done([...directions.values()]);
};

export const queueRetry: Rule = (v, w) => {
  const waited = v.messages.filter((m) => remote(m).length && deferrals(m, 'connection').length);
  const ok = waited.find((m) => deliveredAt(m));
  const story = (m: ActivityMessage) => {
    const d = deferrals(m, 'connection');
    return w.t(`${who(m)} sent at ${clock(m.time)}, deferred ${w.plural(d.length, 'time', 'kali')} (${d[0].detail})`, `${who(m)} dikirim pukul ${clock(m.time)}, ditunda ${d.length} kali (${d[0].detail})`);
  };
  if (ok)
    return done([
      w.t(
        `${story(ok)}, delivered at ${clock(deliveredAt(ok)!)} after ${w.plural(ok.attempts.length, 'attempt', 'percobaan')} (queue ${ok.queueId})`,
        `${story(ok)}, terkirim pukul ${clock(deliveredAt(ok)!)} setelah ${ok.attempts.length} percobaan (antrian ${ok.queueId})`,
      ),
    ]);
  const m = waited[0];
  if (!m) return notYet([w.t('a message to the other domain while the link is broken: deferred, retried, then delivered after heal', 'surat ke domain lain saat jalurnya putus: ditunda, dicoba lagi, lalu terkirim setelah heal')]);
  if (m.queued)
    return partly(
      [w.t(`${story(m)}, still in the queue (queue ${m.queueId})`, `${story(m)}, masih di antrian (antrian ${m.queueId})`)],
      [w.t('its delivery once the link is back (heal, then wait for the retry or flush)', 'pengirimannya setelah jalurnya tersambung lagi (heal, lalu tunggu percobaan ulang atau flush)')],
    );
  return partly(
    [w.t(`${story(m)}, then returned to the sender (queue ${m.queueId})`, `${story(m)}, lalu dikembalikan ke pengirim (antrian ${m.queueId})`)],
    [w.t('a delivery after the link is healed (this one was returned: heal before its lifetime ends)', 'pengiriman setelah jalurnya diperbaiki (surat ini dikembalikan: lakukan heal sebelum masa hidupnya habis)')],
  );
};

export const returnedMail: Rule = (v, w) => {
  const back = v.messages.map((m) => ({ m, r: returned(m) })).filter((x) => x.r && (x.r.how !== 'refused' || deferrals(x.m).length));
  const x = back[0];
  if (x) {
    const report = notice(v, x.m, 'failure');
    const how =
      x.r!.how === 'admin'
        ? w.t('returned by the administrator (expire)', 'dikembalikan oleh administrator (expire)')
        : x.r!.how === 'lifetime'
          ? w.t('returned at the end of its lifetime', 'dikembalikan saat masa hidupnya habis')
          : w.t('refused by the other server after waiting', 'ditolak server lain setelah menunggu');
    const n = deferrals(x.m).length;
    const at = clock(x.r!.time ?? x.m.time);
    return done([
      w.t(
        `${who(x.m)} waited in the queue from ${clock(x.m.time)} (${w.plural(n, 'deferral', 'penundaan')}), ${how} at ${at} (queue ${x.m.queueId})`,
        `${who(x.m)} menunggu di antrian sejak ${clock(x.m.time)} (${n} kali ditunda), ${how} pukul ${at} (antrian ${x.m.queueId})`,
      ),
      ...(report
        ? [
            w.t(
              `the report "Undelivered Mail Returned to Sender" was put in ${x.m.from}'s mailbox at ${clock(report.time)}`,
              `laporan "Undelivered Mail Returned to Sender" dimasukkan ke kotak surat ${x.m.from} pukul ${clock(report.time)}`,
            ),
          ]
        : []),
    ]);
  }
  const waiting = v.messages.find((m) => m.queued && deferrals(m).length);
  if (waiting)
    return partly(
      [w.t(`${who(waiting)} is waiting in the queue since ${clock(waiting.time)} (queue ${waiting.queueId})`, `${who(waiting)} menunggu di antrian sejak ${clock(waiting.time)} (antrian ${waiting.queueId})`)],
      [
        w.t(
          `its return to the sender: \`npx mail-lab expire ${waiting.domain} ${waiting.queueId}\`, or the end of its lifetime`,
          `pengembaliannya ke pengirim: \`npx mail-lab expire ${waiting.domain} ${waiting.queueId}\`, atau habisnya masa hidup surat itu`,
        ),
      ],
    );
  return notYet([w.t('a message that cannot be delivered (link broken), returned to its sender (expire, or the end of its lifetime)', 'surat yang tidak dapat dikirim (jalur putus), dikembalikan ke pengirimnya (expire, atau habisnya masa hidupnya)')]);
};

export const delayWarning: Rule = (v, w) => {
  const warned = v.messages.filter((m) => m.warned);
  const both = warned.find((m) => returned(m)?.how === 'lifetime');
  const warning = (m: ActivityMessage) => {
    const n = notice(v, m, 'delay');
    return w.t(
      `${who(m)} sent at ${clock(m.time)}; the delay warning ("Delayed Mail (still being retried)") was sent${n ? ` at ${clock(n.time)}` : ''}`,
      `${who(m)} dikirim pukul ${clock(m.time)}; peringatan keterlambatan ("Delayed Mail (still being retried)") dikirim${n ? ` pukul ${clock(n.time)}` : ''}`,
    );
  };
  if (both) {
    const at = clock(returned(both)!.time ?? both.time);
    return done([
      w.t(
        `${warning(both)}; returned at the end of its lifetime at ${at} after ${w.plural(both.attempts.length, 'attempt', 'percobaan')} (queue ${both.queueId})`,
        `${warning(both)}; dikembalikan saat masa hidupnya habis pukul ${at} setelah ${both.attempts.length} percobaan (antrian ${both.queueId})`,
      ),
    ]);
  }
  if (warned[0])
    return partly(
      [w.t(`${warning(warned[0])} (queue ${warned[0].queueId})`, `${warning(warned[0])} (antrian ${warned[0].queueId})`)],
      [w.t('its return at the end of its lifetime (the warning is not the end: the message is still retried)', 'pengembaliannya saat masa hidupnya habis (peringatan bukan akhirnya: surat itu masih dicoba lagi)')],
    );
  const early = v.messages.map((m) => ({ m, r: returned(m) })).find((x) => x.r && x.r.how !== 'refused');
  if (early) {
    const at = clock(early.r!.time ?? early.m.time);
    return partly(
      [w.t(`${who(early.m)} was returned at ${at} without a delay warning first (queue ${early.m.queueId})`, `${who(early.m)} dikembalikan pukul ${at} tanpa peringatan keterlambatan lebih dulu (antrian ${early.m.queueId})`)],
      [w.t('the delay warning before the return (it comes after warnAfter: 30 s with the demo profile)', 'peringatan keterlambatan sebelum dikembalikan (datang setelah warnAfter: 30 detik dengan profil demo)')],
    );
  }
  return notYet([w.t('a message that waits long enough for the delay warning, then is returned (demo profile: 30 s, then 90 s)', 'surat yang menunggu cukup lama untuk peringatan keterlambatan, lalu dikembalikan (profil demo: 30 detik, lalu 90 detik)')]);
};

export const dnsOutage: Rule = (v, w) => {
  const hit = v.messages.filter((m) => deferrals(m, 'dns').length);
  const asked = v.dns.filter((q) => q.rcode === 'SERVFAIL' || q.rcode === 'DROPPED');
  const q = asked[0];
  const extra = q
    ? [
        w.t(
          `the broken DNS answered you too: ${q.type} ${q.name} → ${q.rcode} at ${clock(q.time)}${asked.length > 1 ? ` (and ${asked.length - 1} more)` : ''}`,
          `DNS yang rusak juga menjawab pertanyaan dari sini: ${q.type} ${q.name} → ${q.rcode} pukul ${clock(q.time)}${asked.length > 1 ? ` (dan ${asked.length - 1} lagi)` : ''}`,
        ),
      ]
    : [];
  const story = (m: ActivityMessage) => {
    const d = deferrals(m, 'dns');
    const why = [...new Set(d.map((a) => a.detail))].join('; ');
    return w.t(
      `${who(m)} sent at ${clock(m.time)}, deferred ${w.plural(d.length, 'time', 'kali')} because DNS did not answer (${why})`,
      `${who(m)} dikirim pukul ${clock(m.time)}, ditunda ${d.length} kali karena DNS tidak menjawab (${why})`,
    );
  };
  const ok = hit.find((m) => deliveredAt(m) && !returned(m));
  if (ok)
    return done([
      w.t(`${story(ok)}, delivered at ${clock(deliveredAt(ok)!)} (queue ${ok.queueId}), not returned`, `${story(ok)}, terkirim pukul ${clock(deliveredAt(ok)!)} (antrian ${ok.queueId}), tidak dikembalikan`),
      ...extra,
    ]);
  const m = hit[0];
  const wanted = w.t(
    'a message to the other domain while its DNS fails (dns-servfail or dns-down): deferred, not returned, delivered after the repair',
    'surat ke domain lain saat DNS-nya gagal (dns-servfail atau dns-down): ditunda, tidak dikembalikan, terkirim setelah diperbaiki',
  );
  if (!m) return extra.length ? partly(extra, [wanted]) : notYet([wanted]);
  if (m.queued)
    return partly(
      [w.t(`${story(m)}, still in the queue (queue ${m.queueId})`, `${story(m)}, masih di antrian (antrian ${m.queueId})`), ...extra],
      [w.t('its delivery once DNS answers again (clear the fault, then flush)', 'pengirimannya setelah DNS menjawab lagi (hapus gangguannya, lalu flush)')],
    );
  return partly(
    [w.t(`${story(m)}, then returned (queue ${m.queueId})`, `${story(m)}, lalu dikembalikan (antrian ${m.queueId})`), ...extra],
    [w.t('a delivery after DNS is repaired (this one was returned: repair before its lifetime ends)', 'pengiriman setelah DNS diperbaiki (surat ini dikembalikan: perbaiki sebelum masa hidupnya habis)')],
  );
};
