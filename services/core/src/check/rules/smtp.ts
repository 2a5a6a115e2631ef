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
import { and, clock, lines, pace, plural, where } from '../words';
import { deferKind } from './queue';

/** Sessions a person made on port 25 (not the lab's servers relaying to each other). */
const port25 = (v: StudentView) => v.sessions.filter((s) => s.protocol === 'smtp' && s.port === 25 && !s.labServer);
const at = (s: Session, c: Cmd) => clock(s.start + c.at);
const queued = (c: Cmd) => /queued as (\S+)/.exec(c.reply)?.[1];

const BY_HAND_STEPS: [string, (c: Cmd) => boolean][] = [
  ['HELO or EHLO', (c) => (c.verb === 'HELO' || c.verb === 'EHLO') && c.ok],
  ['MAIL FROM (accepted)', (c) => c.verb === 'MAIL' && c.ok],
  ['RCPT TO (accepted: 250)', (c) => c.verb === 'RCPT' && c.reply.startsWith('250')],
  ['DATA (354)', (c) => c.verb === 'DATA' && c.reply.startsWith('354')],
  ['the message ended by a line with only "." and accepted (250 … queued as)', (c) => c.verb === '[DATA]' && c.reply.startsWith('250')],
];

export const smtpByHand: Rule = (v) => {
  const sessions = port25(v);
  const steps = (s: Session) => BY_HAND_STEPS.filter(([, ok]) => s.cmds.some(ok));
  const complete = sessions.filter((s) => s.typed && steps(s).length === BY_HAND_STEPS.length);
  const extra = (s: Session) => {
    const others = s.cmds.filter((c) => ['HELP', 'VRFY', 'EXPN', 'VERB', 'RSET', 'NOOP'].includes(c.verb));
    return others.length ? [`also typed: ${lines(others)}`] : [];
  };
  if (complete.length) {
    const s = complete[0];
    const used = s.cmds.filter((c) => ['HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA'].includes(c.verb) && c.ok);
    const id = s.cmds.map(queued).find(Boolean);
    return done([
      `${lines(used)} typed at ${clock(s.start)} ${where(s)}${id ? `; queued as ${id}` : ''} (${pace(s)})`,
      ...extra(s),
      ...(complete.length > 1 ? [`${plural(complete.length, 'session')} like it in all`] : []),
    ]);
  }
  const closest = best(sessions, (s) => steps(s).length * 2 + (s.typed ? 1 : 0));
  if (!closest) return notYet(['an SMTP session on port 25 typed by hand (telnet localhost 20025): HELO, MAIL FROM, RCPT TO, DATA, the message, a line with only "."']);
  const have = steps(closest).map(([name]) => name);
  const missing = BY_HAND_STEPS.filter(([name]) => !have.includes(name)).map(([name]) => name);
  if (!closest.typed) missing.push(`typing it by hand: that session was ${pace(closest)}; type it in telnet or nc -C`);
  return partly([`closest: ${lines(closest.cmds)} at ${clock(closest.start)} ${where(closest)}`, ...extra(closest)], missing);
};

export const simplestMailServer: Rule = (v) => {
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
  if (top && top[1].length >= 2) return done([`${plural(top[1].length, 'message')} typed by hand to ${top[0]}: ${and(top[1].map(told))}, each appended at the bottom of its mailbox file`]);
  if (top) return partly([`1 message typed by hand to ${top[0]}: ${told(top[1][0])}, appended to its mailbox file`], [`a second message to the same mailbox, to see it appended below the first`]);
  const prog = best([...programs.entries()], ([, n]) => n);
  if (prog) return partly([`${plural(prog[1], 'message')} to ${prog[0]} on port 25, sent by a program`], ['two messages typed by hand (telnet) to one mailbox']);
  return notYet(['two messages typed by hand (telnet, port 25) to one mailbox, reading the file after each']);
};

const relayRefused = (c: Cmd) => c.verb === 'RCPT' && /^554\b/.test(c.reply) && /relay/i.test(c.reply);

export const openRelayRefused: Rule = (v) => {
  const refused = port25(v).flatMap((s) => s.cmds.filter(relayRefused).map((c) => ({ s, c })));
  const allowed = v.sessions
    .filter((s) => s.protocol === 'smtp' && s.port !== 25 && s.cmds.some((c) => c.verb === 'AUTH' && c.reply.startsWith('235')))
    .flatMap((s) => s.cmds.filter((c) => c.verb === 'RCPT' && c.reply.startsWith('250') && (envelopeAddress(c.arg)?.split('@')[1] ?? s.domain) !== s.domain).map((c) => ({ s, c })));
  const evidence: string[] = [];
  const missing: string[] = [];
  const r = refused[0];
  if (r) evidence.push(`port 25 of ${r.s.domain} refused ${r.c.line} at ${at(r.s, r.c)}: ${r.c.reply} (from ${r.s.peer}${r.s.mailFrom[0] ? `, MAIL FROM:<${r.s.mailFrom[0]}>` : ''})`);
  else missing.push('a relay refused on port 25: without logging in, RCPT TO a user of the other domain (554 5.7.1 Relay access denied)');
  const a = allowed[0];
  if (a) evidence.push(`after AUTH as ${a.s.user} on port ${a.s.port} of ${a.s.domain}, ${a.c.line} was accepted at ${at(a.s, a.c)} (${a.c.reply})`);
  else missing.push('the same relay allowed after logging in on port 587 (AUTH, then RCPT TO the other domain: 250)');
  return !evidence.length ? notYet(missing) : missing.length ? partly(evidence, missing) : done(evidence);
};

export const mailLoop: Rule = (v) => {
  const max = v.records.config.limits.maxHops;
  const smtp = v.sessions.filter((s) => s.protocol === 'smtp' && !s.labServer);
  const refused = smtp.flatMap((s) => s.cmds.filter((c) => c.verb === '[DATA]' && /^554 5\.4\.6/.test(c.reply)).map((c) => ({ s, c })));
  const accepted = smtp.flatMap((s) => (s.messages ?? []).filter((m) => m.hops >= max - 1).map((m) => ({ s, m })));
  const evidence: string[] = [];
  const missing: string[] = [];
  const r = refused[0];
  if (r) evidence.push(`a message refused at ${at(r.s, r.c)} ${where(r.s)}: ${r.c.reply}`);
  else missing.push(`a message with ${max} or more Received: lines refused after its final "." (554 5.4.6 Too many hops)`);
  const a = accepted[0];
  if (a) evidence.push(`a message with ${a.m.hops} Received: lines accepted at ${clock(a.s.start)} ${where(a.s)} (queued as ${a.m.queueId}; the limit is ${max})`);
  else missing.push(`the same message with ${max - 1} Received: lines accepted (250 … queued as)`);
  return !evidence.length ? notYet(missing) : missing.length ? partly(evidence, missing) : done(evidence);
};

export const greylisting: Rule = (v) => {
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
  if (typed) evidence.push(`${typed.g.c.line} greylisted at ${at(typed.g.s, typed.g.c)} ${where(typed.g.s)} (${typed.g.c.reply})${typed.ok ? `, accepted again at ${at(typed.ok.s, typed.ok.c)} (${typed.ok.c.reply})` : ''}`);
  if (!typed) missing.push('being the sending server yourself on port 25: RCPT TO answered 451 4.7.1 Greylisted, then the same RCPT accepted after the wait');
  else if (!typed.ok) missing.push('the same RCPT TO accepted again after the waiting time (250)');
  if (queue) evidence.push(`${queue.m.from} → ${queue.m.recipients.filter((r) => !r.local).map((r) => r.address).join(', ')}: deferred by greylisting at ${clock(queue.first!.time)} (${queue.first!.detail})${queue.ok ? `, delivered by the queue's own retry at ${clock(queue.ok.time)} (queue ${queue.m.queueId})` : ', not delivered yet'}`);
  if (!queue) missing.push("a message through a real server (submission) deferred by greylisting and delivered at the queue's next retry");
  else if (!queue.ok) missing.push("its delivery at the queue's next retry (do not flush: wait)");
  return !evidence.length ? notYet(missing) : missing.length ? partly(evidence, missing) : done(evidence);
};

export const earlyTalker: Rule = (v) => {
  const sessions = v.sessions.filter((s) => s.protocol === 'smtp' && !s.labServer);
  const cut = sessions.find((s) => s.cmds[0] && /You talk too soon/i.test(s.cmds[0].reply));
  if (!cut) return notYet(['a command sent before the greeting while the greet-delay fault is on (421 You talk too soon)']);
  const waited = port25(v).find((s) => s.start > cut.start && s.peer === cut.peer && s.cmds.some((c) => (c.verb === 'EHLO' || c.verb === 'HELO') && c.ok));
  const evidence = [`at ${clock(cut.start)} ${cut.cmds[0].line} was sent before the greeting and cut off: ${cut.cmds[0].reply} (${where(cut)})`];
  if (!waited) return partly(evidence, ['a session that waits for the 220 greeting before EHLO']);
  const hello = waited.cmds.find((c) => (c.verb === 'EHLO' || c.verb === 'HELO') && c.ok)!;
  return done([...evidence, `at ${clock(waited.start)} a session that waited for the greeting: ${hello.line} answered ${hello.reply.slice(0, 3)} (${where(waited)})`]);
};
