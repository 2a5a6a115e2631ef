/**
 * The task in which students change the lab itself (change-the-lab): a
 * second MX that takes mail for the other domain while its primary is down,
 * holds it and hands it on. The servers' records show it as a message in one
 * domain's queue, from a sender outside that domain, for a recipient of
 * another lab domain (the backup MX relays only for its `relayDomains`),
 * deferred while the primary was down and delivered when it was back.
 */
import type { ActivityMessage } from '../../admin/api';
import { domainOf, done, notYet, partly, type Rule } from '../rule';
import { clock } from '../words';

/** The recipients `m` was taken for as a backup MX: another lab domain's, the sender not of the queue's domain. */
function relayedFor(m: ActivityMessage, labDomains: string[]): ActivityMessage['recipients'] {
  if (!m.from || domainOf(m.from) === m.domain) return [];
  return m.recipients.filter((r) => !r.local && domainOf(r.address) !== m.domain && labDomains.includes(domainOf(r.address)));
}

export const changeTheLab: Rule = (v, w) => {
  const lab = v.records.config.domains.map((d) => d.name);
  const relayed = v.messages.map((m) => ({ m, rs: relayedFor(m, lab) })).filter((x) => x.rs.length);
  const story = ({ m, rs }: { m: ActivityMessage; rs: ActivityMessage['recipients'] }) =>
    w.t(
      `${m.domain} took ${m.from} → ${rs.map((r) => r.address).join(', ')} at ${clock(m.time)} as the backup MX of ${domainOf(rs[0].address)} (queue ${m.queueId})`,
      `${m.domain} menerima ${m.from} → ${rs.map((r) => r.address).join(', ')} pukul ${clock(m.time)} sebagai MX cadangan ${domainOf(rs[0].address)} (antrian ${m.queueId})`,
    );
  const waited = (m: ActivityMessage) => m.attempts.filter((a) => a.result === 'deferred').length;
  const full = relayed.find((x) => x.rs.some((r) => r.status === 'delivered') && waited(x.m));
  if (full) {
    const at = full.rs.find((r) => r.status === 'delivered')!.doneAt ?? full.m.time;
    return done([
      w.t(
        `${story(full)}, held it (${w.plural(waited(full.m), 'deferral', 'penundaan')} while the primary was down) and delivered it to the primary at ${clock(at)}`,
        `${story(full)}, menahannya (${waited(full.m)} kali ditunda selama server utama mati) dan mengirimkannya ke server utama pukul ${clock(at)}`,
      ),
    ]);
  }
  const wanted = w.t(
    'a second MX added by `npx mail-lab reload`, the primary stopped (fault server-down), a message handed to the second MX, held there and delivered when the primary is back',
    'MX kedua ditambahkan dengan `npx mail-lab reload`, server utama dimatikan (gangguan server-down), surat diserahkan ke MX kedua, ditahan di sana dan dikirim saat server utama hidup lagi',
  );
  const x = relayed[0];
  if (!x) return notYet([wanted]);
  if (x.m.queued) return partly([w.t(`${story(x)}, still in its queue`, `${story(x)}, masih di antriannya`)], [w.t('its delivery to the primary once it is back (clear the fault, then flush)', 'pengirimannya ke server utama setelah hidup lagi (hapus gangguannya, lalu flush)')]);
  return partly(
    [w.t(`${story(x)}, delivered at once (the primary was not down)`, `${story(x)}, langsung dikirim (server utama tidak mati)`)],
    [w.t('the same while the primary is down (fault server-down), so that the second MX holds it', 'hal yang sama saat server utama mati (gangguan server-down), supaya MX kedua menahannya')],
  );
};
