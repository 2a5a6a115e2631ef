/**
 * The tasks read from SMTP sessions (trace/sessions.ts records):
 * smtp-by-hand, simplest-mail-server, open-relay-refused, mail-loop,
 * greylisting (the hand-typed half; the queue's half is in queue.ts's
 * words) and early-talker. "Port 25" sessions of the lab's own servers
 * (HELO mail.<domain>) are never a student's typing.
 */
import { envelopeAddress, messageOf, type Cmd, type Session } from '../records';
import { best, done, notYet, partly, type Rule } from '../rule';
import type { StudentView } from '../student';
import { clock } from '../words';
import { deferKind } from './queue';

/** Sessions a person made on port 25 (not the lab's servers relaying to each other). */
const port25 = (v: StudentView) => v.sessions.filter((s) => s.protocol === 'smtp' && s.port === 25 && !s.labServer);
const at = (s: Session, c: Cmd) => clock(s.start + c.at);
const queued = (c: Cmd) => /queued as (\S+)/.exec(c.reply)?.[1];

const BY_HAND_STEPS: [string, string, (c: Cmd) => boolean][] = [
  ['HELO or EHLO', 'HELO atau EHLO', (c) => (c.verb === 'HELO' || c.verb === 'EHLO') && c.ok],
  ['MAIL FROM (accepted)', 'MAIL FROM (diterima)', (c) => c.verb === 'MAIL' && c.ok],
  ['RCPT TO (accepted: 250)', 'RCPT TO (diterima: 250)', (c) => c.verb === 'RCPT' && c.reply.startsWith('250')],
  ['DATA (354)', 'DATA (354)', (c) => c.verb === 'DATA' && c.reply.startsWith('354')],
  ['the message ended by a line with only "." and accepted (250 … queued as)', 'isi surat diakhiri baris yang hanya berisi "." dan diterima (250 … queued as)', (c) => c.verb === '[DATA]' && c.reply.startsWith('250')],
];

export const smtpByHand: Rule = (v, w) => {
  const sessions = port25(v);
  const steps = (s: Session) => BY_HAND_STEPS.filter(([, , ok]) => s.cmds.some(ok));
  const complete = sessions.filter((s) => s.typed && steps(s).length === BY_HAND_STEPS.length);
  const extra = (s: Session) => {
    const others = s.cmds.filter((c) => ['HELP', 'VRFY', 'EXPN', 'VERB', 'RSET', 'NOOP'].includes(c.verb));
    return others.length ? [w.t(`also typed: ${w.lines(others)}`, `juga diketik: ${w.lines(others)}`)] : [];
  };
  if (complete.length) {
    const s = complete[0];
    const used = s.cmds.filter((c) => ['HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA'].includes(c.verb) && c.ok);
    const id = s.cmds.map(queued).find(Boolean);
    return done([
      w.t(`${w.lines(used)} typed at ${clock(s.start)} ${w.where(s)}${id ? `; queued as ${id}` : ''} (${w.pace(s)})`, `${w.lines(used)} diketik pukul ${clock(s.start)} ${w.where(s)}${id ? `; masuk antrian sebagai ${id}` : ''} (${w.pace(s)})`),
      ...extra(s),
      ...(complete.length > 1 ? [w.t(`${w.plural(complete.length, 'session', 'sesi')} like it in all`, `seluruhnya ${complete.length} sesi seperti itu`)] : []),
    ]);
  }
  const closest = best(sessions, (s) => steps(s).length * 2 + (s.typed ? 1 : 0));
  if (!closest) return notYet([w.t('an SMTP session on port 25 typed by hand (telnet localhost 20025): HELO, MAIL FROM, RCPT TO, DATA, the message, a line with only "."', 'sesi SMTP di port 25 yang diketik sendiri (telnet localhost 20025): HELO, MAIL FROM, RCPT TO, DATA, isi surat, baris yang hanya berisi "."')]);
  const have = steps(closest).map(([name]) => name);
  const missing = BY_HAND_STEPS.filter(([name]) => !have.includes(name)).map(([en, id]) => w.t(en, id));
  if (!closest.typed) missing.push(w.t(`typing it by hand: that session was ${w.pace(closest)}; type it in telnet or nc -C`, `mengetiknya sendiri: sesi itu ${w.pace(closest)}; ketik di telnet atau nc -C`));
  return partly([w.t(`closest: ${w.lines(closest.cmds)} at ${clock(closest.start)} ${w.where(closest)}`, `yang paling dekat: ${w.lines(closest.cmds)} pukul ${clock(closest.start)} ${w.where(closest)}`), ...extra(closest)], missing);
};

export const simplestMailServer: Rule = (v, w) => {
  // Typed messages, by the mailbox (local recipient) they were appended to.
  const byBox = new Map<string, { s: Session; id: string; subject?: string }[]>();
  const programs = new Map<string, number>();
  for (const s of port25(v)) {
    for (const m of s.messages ?? []) {
      const q = messageOf(v.records, s.domain, m.queueId);
      for (const r of q?.recipients.filter((x) => x.local && x.status === 'delivered') ?? []) {
        if (!s.typed) {
          programs.set(r.address, (programs.get(r.address) ?? 0) + 1);
          continue;
        }
        byBox.set(r.address, [...(byBox.get(r.address) ?? []), { s, id: m.queueId, subject: m.subject }]);
      }
    }
  }
  const told = (x: { s: Session; id: string; subject?: string }) => `${clock(x.s.start)} (${x.id}${x.subject ? `, "${x.subject}"` : ''})`;
  const top = best([...byBox.entries()], ([, xs]) => xs.length);
  if (top && top[1].length >= 2)
    return done([
      w.t(
        `${w.plural(top[1].length, 'message', 'surat')} typed by hand to ${top[0]}: ${w.and(top[1].map(told))}, each appended at the bottom of its mailbox file`,
        `${top[1].length} surat diketik sendiri ke ${top[0]}: ${w.and(top[1].map(told))}, masing-masing ditambahkan di bagian bawah file kotak suratnya`,
      ),
    ]);
  if (top)
    return partly(
      [w.t(`1 message typed by hand to ${top[0]}: ${told(top[1][0])}, appended to its mailbox file`, `1 surat diketik sendiri ke ${top[0]}: ${told(top[1][0])}, ditambahkan ke file kotak suratnya`)],
      [w.t(`a second message to the same mailbox, to see it appended below the first`, 'surat kedua ke kotak surat yang sama, untuk melihatnya ditambahkan di bawah surat pertama')],
    );
  const prog = best([...programs.entries()], ([, n]) => n);
  if (prog)
    return partly(
      [w.t(`${w.plural(prog[1], 'message', 'surat')} to ${prog[0]} on port 25, sent by a program`, `${prog[1]} surat ke ${prog[0]} di port 25, dikirim oleh program`)],
      [w.t('two messages typed by hand (telnet) to one mailbox', 'dua surat yang diketik sendiri (telnet) ke satu kotak surat')],
    );
  return notYet([w.t('two messages typed by hand (telnet, port 25) to one mailbox, reading the file after each', 'dua surat yang diketik sendiri (telnet, port 25) ke satu kotak surat, membaca file-nya setelah setiap surat')]);
};

const relayRefused = (c: Cmd) => c.verb === 'RCPT' && /^554\b/.test(c.reply) && /relay/i.test(c.reply);

export const openRelayRefused: Rule = (v, w) => {
  const refused = port25(v).flatMap((s) => s.cmds.filter(relayRefused).map((c) => ({ s, c })));
  const allowed = v.sessions
    .filter((s) => s.protocol === 'smtp' && s.port !== 25 && s.cmds.some((c) => c.verb === 'AUTH' && c.reply.startsWith('235')))
    .flatMap((s) => s.cmds.filter((c) => c.verb === 'RCPT' && c.reply.startsWith('250') && (envelopeAddress(c.arg)?.split('@')[1] ?? s.domain) !== s.domain).map((c) => ({ s, c })));
  const evidence: string[] = [];
  const missing: string[] = [];
  const r = refused[0];
  const from = r ? `${r.s.peer}${r.s.mailFrom[0] ? `, MAIL FROM:<${r.s.mailFrom[0]}>` : ''}` : '';
  if (r) evidence.push(w.t(`port 25 of ${r.s.domain} refused ${r.c.line} at ${at(r.s, r.c)}: ${r.c.reply} (from ${from})`, `port 25 ${r.s.domain} menolak ${r.c.line} pukul ${at(r.s, r.c)}: ${r.c.reply} (dari ${from})`));
  else missing.push(w.t('a relay refused on port 25: without logging in, RCPT TO a user of the other domain (554 5.7.1 Relay access denied)', 'relay yang ditolak di port 25: tanpa login, RCPT TO ke pengguna domain lain (554 5.7.1 Relay access denied)'));
  const a = allowed[0];
  if (a) evidence.push(w.t(`after AUTH as ${a.s.user} on port ${a.s.port} of ${a.s.domain}, ${a.c.line} was accepted at ${at(a.s, a.c)} (${a.c.reply})`, `setelah AUTH sebagai ${a.s.user} di port ${a.s.port} ${a.s.domain}, ${a.c.line} diterima pukul ${at(a.s, a.c)} (${a.c.reply})`));
  else missing.push(w.t('the same relay allowed after logging in on port 587 (AUTH, then RCPT TO the other domain: 250)', 'relay yang sama diizinkan setelah login di port 587 (AUTH, lalu RCPT TO ke domain lain: 250)'));
  return !evidence.length ? notYet(missing) : missing.length ? partly(evidence, missing) : done(evidence);
};

export const mailLoop: Rule = (v, w) => {
  const max = v.records.config.limits.maxHops;
  const smtp = v.sessions.filter((s) => s.protocol === 'smtp' && !s.labServer);
  const refused = smtp.flatMap((s) => s.cmds.filter((c) => c.verb === '[DATA]' && /^554 5\.4\.6/.test(c.reply)).map((c) => ({ s, c })));
  const accepted = smtp.flatMap((s) => (s.messages ?? []).filter((m) => m.hops >= max - 1).map((m) => ({ s, m })));
  const evidence: string[] = [];
  const missing: string[] = [];
  const r = refused[0];
  if (r) evidence.push(w.t(`a message refused at ${at(r.s, r.c)} ${w.where(r.s)}: ${r.c.reply}`, `surat ditolak pukul ${at(r.s, r.c)} ${w.where(r.s)}: ${r.c.reply}`));
  else missing.push(w.t(`a message with ${max} or more Received: lines refused after its final "." (554 5.4.6 Too many hops)`, `surat dengan ${max} baris Received: atau lebih ditolak setelah "." penutupnya (554 5.4.6 Too many hops)`));
  const a = accepted[0];
  if (a) evidence.push(w.t(`a message with ${a.m.hops} Received: lines accepted at ${clock(a.s.start)} ${w.where(a.s)} (queued as ${a.m.queueId}; the limit is ${max})`, `surat dengan ${a.m.hops} baris Received: diterima pukul ${clock(a.s.start)} ${w.where(a.s)} (masuk antrian sebagai ${a.m.queueId}; batasnya ${max})`));
  else missing.push(w.t(`the same message with ${max - 1} Received: lines accepted (250 … queued as)`, `surat yang sama dengan ${max - 1} baris Received: diterima (250 … queued as)`));
  return !evidence.length ? notYet(missing) : missing.length ? partly(evidence, missing) : done(evidence);
};

export const greylisting: Rule = (v, w) => {
  const sessions = port25(v);
  const refusals = sessions.flatMap((s) => s.cmds.filter((c) => c.verb === 'RCPT' && /^451\b/.test(c.reply) && /greylist/i.test(c.reply)).map((c) => ({ s, c, to: envelopeAddress(c.arg) })));
  const later = (g: (typeof refusals)[number]) =>
    sessions
      .flatMap((s) => s.cmds.filter((c) => c.verb === 'RCPT' && c.reply.startsWith('250') && envelopeAddress(c.arg) === g.to && s.start + c.at > g.s.start + g.c.at).map((c) => ({ s, c })))
      .at(0);
  const typed = refusals.map((g) => ({ g, ok: later(g) })).sort((a, b) => Number(!!b.ok) - Number(!!a.ok))[0];
  const queue = v.messages
    .map((m) => ({ m, first: m.attempts.find((a) => a.result === 'deferred' && deferKind(a.detail) === 'greylist'), ok: m.attempts.find((a) => a.result === 'delivered') }))
    .filter((x) => x.first)
    .sort((a, b) => Number(!!b.ok) - Number(!!a.ok))[0];
  const evidence: string[] = [];
  const missing: string[] = [];
  if (typed)
    evidence.push(
      w.t(
        `${typed.g.c.line} greylisted at ${at(typed.g.s, typed.g.c)} ${w.where(typed.g.s)} (${typed.g.c.reply})${typed.ok ? `, accepted again at ${at(typed.ok.s, typed.ok.c)} (${typed.ok.c.reply})` : ''}`,
        `${typed.g.c.line} kena greylisting pukul ${at(typed.g.s, typed.g.c)} ${w.where(typed.g.s)} (${typed.g.c.reply})${typed.ok ? `, diterima lagi pukul ${at(typed.ok.s, typed.ok.c)} (${typed.ok.c.reply})` : ''}`,
      ),
    );
  if (!typed) missing.push(w.t('being the sending server yourself on port 25: RCPT TO answered 451 4.7.1 Greylisted, then the same RCPT accepted after the wait', 'menjadi server pengirim sendiri di port 25: RCPT TO dijawab 451 4.7.1 Greylisted, lalu RCPT yang sama diterima setelah menunggu'));
  else if (!typed.ok) missing.push(w.t('the same RCPT TO accepted again after the waiting time (250)', 'RCPT TO yang sama diterima lagi setelah waktu tunggu (250)'));
  if (queue) {
    const to = queue.m.recipients.filter((r) => !r.local).map((r) => r.address).join(', ');
    evidence.push(
      w.t(
        `${queue.m.from} → ${to}: deferred by greylisting at ${clock(queue.first!.time)} (${queue.first!.detail})${queue.ok ? `, delivered by the queue's own retry at ${clock(queue.ok.time)} (queue ${queue.m.queueId})` : ', not delivered yet'}`,
        `${queue.m.from} → ${to}: ditunda karena greylisting pukul ${clock(queue.first!.time)} (${queue.first!.detail})${queue.ok ? `, dikirim oleh percobaan ulang antrian sendiri pukul ${clock(queue.ok.time)} (antrian ${queue.m.queueId})` : ', belum terkirim'}`,
      ),
    );
  }
  if (!queue) missing.push(w.t("a message through a real server (submission) deferred by greylisting and delivered at the queue's next retry", 'surat lewat server sungguhan (submission) yang ditunda karena greylisting dan terkirim pada percobaan ulang antrian berikutnya'));
  else if (!queue.ok) missing.push(w.t("its delivery at the queue's next retry (do not flush: wait)", 'pengirimannya pada percobaan ulang antrian berikutnya (jangan flush: tunggu)'));
  return !evidence.length ? notYet(missing) : missing.length ? partly(evidence, missing) : done(evidence);
};

export const earlyTalker: Rule = (v, w) => {
  const sessions = v.sessions.filter((s) => s.protocol === 'smtp' && !s.labServer);
  const cut = sessions.find((s) => s.cmds[0] && /You talk too soon/i.test(s.cmds[0].reply));
  if (!cut) return notYet([w.t('a command sent before the greeting while the greet-delay fault is on (421 You talk too soon)', 'perintah yang dikirim sebelum salam pembuka saat gangguan greet-delay aktif (421 You talk too soon)')]);
  const waited = port25(v).find((s) => s.start > cut.start && s.peer === cut.peer && s.cmds.some((c) => (c.verb === 'EHLO' || c.verb === 'HELO') && c.ok));
  const evidence = [
    w.t(
      `at ${clock(cut.start)} ${cut.cmds[0].line} was sent before the greeting and cut off: ${cut.cmds[0].reply} (${w.where(cut)})`,
      `pukul ${clock(cut.start)} ${cut.cmds[0].line} dikirim sebelum salam pembuka dan diputus: ${cut.cmds[0].reply} (${w.where(cut)})`,
    ),
  ];
  if (!waited) return partly(evidence, [w.t('a session that waits for the 220 greeting before EHLO', 'sesi yang menunggu salam pembuka 220 sebelum EHLO')]);
  const hello = waited.cmds.find((c) => (c.verb === 'EHLO' || c.verb === 'HELO') && c.ok)!;
  return done([
    ...evidence,
    w.t(
      `at ${clock(waited.start)} a session that waited for the greeting: ${hello.line} answered ${hello.reply.slice(0, 3)} (${w.where(waited)})`,
      `pukul ${clock(waited.start)} sesi yang menunggu salam pembuka: ${hello.line} dijawab ${hello.reply.slice(0, 3)} (${w.where(waited)})`,
    ),
  ]);
};
