/**
 * What each scenario step does, and how it reports. Every step acts on the
 * running lab through its published ports and admin API (the same in Docker
 * and no-Docker mode) and returns lines worth showing to the class.
 */
import { Resolver } from 'node:dns/promises';
import { Socket } from 'node:net';
import nodemailer from 'nodemailer';
import { parseDuration } from '../../services/core/src/duration';
import { requireDomain } from '../../services/core/src/config';
import { MAIL_API, type QueueListing } from '../../services/core/src/admin/api';
import { faultFromArgs } from '../../services/core/src/faults';
import { setFault } from '../faults/apply';
import type { Step } from './schema';
import { imapActions, mailboxFile, pop3Dialogue } from './reading-steps';
import { describeStep, messages, pick } from './messages';
import type { Lang } from './lang';
import { StepFailure, type StepContext, type StepResult } from './step-types';
import { runFaultStep } from './fault-steps';
import { attemptsShortfall, runExpectReportStep, runQueueProfileStep } from './queue-steps';
import { isClientStep, runClientStep } from './client-steps';
import { runReloadStep } from './reload-steps';

export function fill(ctx: StepContext, text: string): string {
  return text.replace(/\{\{(run|id)(?::([a-z0-9-]+))?\}\}/g, (_, what: string, name?: string) => {
    if (what === 'run') return ctx.run;
    const id = ctx.ids.get(name ?? 'last');
    if (!id) throw new StepFailure(messages(ctx.lang ?? 'en').failure.unknownId(name));
    return id;
  });
}

const ms = (text: string) => parseDuration(text) ?? 30_000;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function poll<T>(within: number, check: () => Promise<T | null>): Promise<T | null> {
  const deadline = Date.now() + within;
  for (;;) {
    const v = await check();
    if (v !== null || Date.now() > deadline) return v;
    await sleep(250);
  }
}

export function describe(ctx: StepContext, step: Step): string {
  const f = (t: string) => {
    try {
      return fill(ctx, t);
    } catch {
      return t;
    }
  };
  // The descriptions live in the message catalog (messages.ts), in both languages.
  const known = describeStep(ctx.lang ?? 'en', step, f);
  if (known !== undefined) return known;
  return Object.keys(step)[0]; // a step kind the catalog does not describe yet
}

function unfoldHeaders(block: string): string[] {
  return block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/).filter(Boolean);
}

export async function runStep(ctx: StepContext, step: Step): Promise<StepResult> {
  const { target } = ctx;
  const config = target.config;
  const ok = (detail: string[] = []): StepResult => ({ status: 'ok', detail });
  const said = messages(ctx.lang ?? 'en').detail;
  const failed = messages(ctx.lang ?? 'en').failure;

  if ('say' in step) return ok(fill(ctx, pick(step.say, ctx.lang ?? 'en')).trim().split('\n'));
  if ('break' in step || 'heal' in step) {
    const [a, b] = 'break' in step ? step.break : step.heal;
    const r = await setFault(target, faultFromArgs(config, 'link', [a, b]), 'break' in step);
    return ok([r.changed ? ('break' in step ? messages(ctx.lang ?? 'en').link.broken(r.how ?? '', target.mode) : said.linkHealed) : said.linkUnchanged]);
  }
  if ('flush' in step) {
    const r = await target.mail(step.flush).call(MAIL_API.flush);
    return ok([r.flushed.length ? said.retrying(r.flushed.join(', ')) : said.queueEmpty]);
  }
  if ('send' in step) {
    const s = step.send;
    const server = requireDomain(config, s.server ?? s.from.split('@')[1]);
    const port = server.ports[s.via];
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      auth: s.via === 'submission' ? { user: s.from, pass: s.password } : undefined,
      connectionTimeout: 10_000,
    });
    try {
      const info = await transport.sendMail({ from: s.from, to: s.to, subject: fill(ctx, s.subject), text: fill(ctx, s.body) });
      if (s['expect-error']) throw new StepFailure(failed.notRefused(s['expect-error'], info.response));
      const id = /queued as (\S+)/.exec(info.response)?.[1];
      if (id) ctx.ids.set(s.save, id);
      return ok([said.answered(`${server.mailHost}:${s.via === 'smtp' ? 25 : 587}`, port, info.response)]);
    } catch (e) {
      if (e instanceof StepFailure) throw e;
      const response = String((e as { response?: string }).response ?? (e as Error).message);
      if (s['expect-error'] && response.startsWith(s['expect-error'])) return ok([said.refusedAsExpected(response)]);
      throw new StepFailure(failed.sendFailed(response));
    } finally {
      transport.close();
    }
  }
  if ('expect-mailbox' in step) {
    const e = step['expect-mailbox'];
    const subject = fill(ctx, e.subject);
    const matching = async () => {
      const list = await target.mail(e.domain).call(MAIL_API.mailboxMessages, { user: e.user });
      return list.filter((m) => unfoldHeaders(m.headers).some((h) => h === `Subject: ${subject}`));
    };
    let found = await poll(ms(e.within), async () => {
      const m = await matching();
      return m.length >= e.count ? m : null;
    });
    if (e.count > 0 && found) {
      await sleep(1000); // a duplicate would arrive right behind the first copy
      found = await matching();
    }
    found = found ?? (await matching());
    if (found.length !== e.count) throw new StepFailure(said.mailboxCount(e.count, subject, `${e.user}@${e.domain}`, found.length, e.within));
    const detail = [said.inMailbox(found.length, subject, e.user)];
    if (found.length && (e.received || e.headers)) {
      const headers = unfoldHeaders(found[0].headers);
      const received = headers.filter((h) => h.startsWith('Received:'));
      detail.push(...received.map((r) => `  ${r}`));
      if (e.received) {
        if (received.length !== e.received.length) throw new StepFailure(failed.receivedCount(e.received.length, received.length), detail);
        e.received.forEach((p, i) => {
          if (!new RegExp(fill(ctx, p)).test(received[i])) throw new StepFailure(failed.receivedMismatch(i + 1, p), detail);
        });
      }
      for (const p of e.headers ?? []) if (!headers.some((h) => new RegExp(fill(ctx, p)).test(h))) throw new StepFailure(failed.noHeader(p), detail);
    }
    return ok(detail);
  }
  if ('expect-queue' in step) {
    const e = step['expect-queue'];
    const id = fill(ctx, e.id);
    const listing = await poll(ms(e.within), async () => {
      const q = await target.mail(e.domain).call(MAIL_API.queue);
      const entry = q.find((x) => x.id === id);
      if (e.state === 'gone') return entry ? null : ({} as QueueListing);
      if (!entry || entry.attempts < 1) return null;
      if (e['last-error'] && !new RegExp(e['last-error']).test(entry.lastError ?? '')) return null;
      if (e.attempts !== undefined && entry.attempts < e.attempts) return null;
      return entry;
    });
    if (!listing && e.state === 'queued' && e.attempts !== undefined) throw new StepFailure(await attemptsShortfall(ctx, e.domain, id, e.attempts, e.within));
    if (!listing) throw new StepFailure(e.state === 'gone' ? said.stillQueued(id, e.domain) : said.notQueued(id, e.domain, e['last-error']));
    if (e.state === 'gone') return ok([said.leftQueue(id, e.domain)]);
    const next = listing.nextAttempt ? Math.round((Date.parse(listing.nextAttempt) - Date.now()) / 1000) : null;
    return ok([said.queued(id, listing.attempts, listing.lastError ?? '-'), said.nextAttempt(next, listing.nextAttempt)]);
  }
  if ('expect-delivery' in step) {
    const e = step['expect-delivery'];
    const id = fill(ctx, e.id);
    const entry = await poll(ms(e.within), async () => {
      const x = await target.mail(e.domain).call(MAIL_API.queueEntry, { id }).catch(() => null);
      return x && x.history.some((h) => h.result === 'delivered' && h.mx) ? x : null;
    });
    if (!entry) throw new StepFailure(said.noDelivery(e.domain, id));
    const h = entry.history.find((x) => x.result === 'delivered' && x.mx)!;
    const detail = [said.mxUsed(h.mx!.map((m) => `${m.priority} ${m.exchange}`).join(', ')), said.deliveredVia(h.host ?? '?', h.detail)];
    if (e.mx && JSON.stringify(h.mx!.map((m) => m.exchange)) !== JSON.stringify(e.mx)) throw new StepFailure(failed.expectedMx(e.mx.join(', ')), detail);
    if (e.host && !new RegExp(e.host).test(h.host ?? '')) throw new StepFailure(failed.expectedHost(e.host), detail);
    return ok(detail);
  }
  if ('dns' in step) {
    const q = step.dns;
    const r = new Resolver({ timeout: 3000, tries: 1 });
    r.setServers([`127.0.0.1:${config.dns.hostPort}`]);
    let answers: string[] = [];
    let rcode = 'NOERROR';
    try {
      switch (q.type) {
        case 'MX':
          answers = (await r.resolveMx(q.name)).sort((a, b) => a.priority - b.priority).map((m) => `${m.priority} ${m.exchange}`);
          break;
        case 'TXT':
          answers = (await r.resolveTxt(q.name)).map((t) => t.join(''));
          break;
        case 'SOA': {
          const s = await r.resolveSoa(q.name);
          answers = [`${s.nsname} ${s.hostmaster} ${s.serial}`];
          break;
        }
        case 'A':
          answers = await r.resolve4(q.name);
          break;
        case 'NS':
          answers = await r.resolveNs(q.name);
          break;
        case 'PTR':
          answers = await r.resolvePtr(q.name);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      rcode = ({ ENOTFOUND: 'NXDOMAIN', EREFUSED: 'REFUSED', ENODATA: 'NODATA', ESERVFAIL: 'SERVFAIL' } as Record<string, string>)[code] ?? code;
    }
    const detail = [`${q.type} ${q.name} -> ${rcode}${answers.length ? ': ' + answers.join(', ') : ''}`];
    if (rcode !== (q.rcode ?? 'NOERROR')) throw new StepFailure(failed.dnsRcode(q.rcode ?? 'NOERROR', rcode), detail);
    if (q.expect && JSON.stringify(answers) !== JSON.stringify(q.expect)) throw new StepFailure(failed.dnsAnswers(q.expect.join(', ')), detail);
    return ok(detail);
  }
  if ('smtp' in step) {
    const s = step.smtp;
    const port = requireDomain(config, s.domain).ports[s.port];
    return ok(await dialogue(port, s.dialogue.map((d) => ({ send: d.send === undefined ? undefined : fill(ctx, d.send), expect: d.expect })), ctx.lang ?? 'en'));
  }
  if ('pop3' in step) return ok(await pop3Dialogue(config, step.pop3, ctx.lang));
  if ('imap' in step) return ok(await imapActions(config, step.imap, (t) => fill(ctx, t), ctx.lang));
  if ('mailbox-file' in step) return ok(await mailboxFile(target, step['mailbox-file'], ctx.values, ctx.lang));
  if (isClientStep(step)) return ok(await runClientStep(target, step, ctx.run, (t) => fill(ctx, t), ctx.lang));
  if ('expire' in step) {
    const id = fill(ctx, step.expire.id);
    await target.mail(step.expire.domain).call(MAIL_API.queueAction, { id, action: 'expire' });
    return ok([said.expired(id, step.expire.domain)]);
  }
  if ('fault' in step || 'clear-fault' in step) return runFaultStep(target, step, ctx.lang);
  if ('queue-profile' in step) return runQueueProfileStep(ctx, step);
  if ('reload' in step) return runReloadStep(ctx, step);
  if ('expect-report' in step) return runExpectReportStep(ctx, step, (t) => fill(ctx, t), sleep, ms(step['expect-report'].within));
  const x = step.exec;
  if (!target.exec) return { status: 'skipped', detail: [said.dockerOnly] };
  const r = await target.exec(target.container(x.container), x.command.map((c) => fill(ctx, c)));
  const lines = r.output.trimEnd().split('\n');
  if (r.code !== 0) throw new StepFailure(failed.exited(r.code), lines);
  if (x.expect && !new RegExp(x.expect, 'm').test(r.output)) throw new StepFailure(failed.outputNoMatch(x.expect), lines);
  return ok(lines);
}

/** A typed SMTP session: each line sent, each reply shown and checked. */
async function dialogue(port: number, lines: { send?: string; expect: string }[], lang: Lang = 'en'): Promise<string[]> {
  const failed = messages(lang).failure;
  const socket = new Socket();
  const transcript: string[] = [];
  let buffer = '';
  const waiters: (() => void)[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buffer += d;
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => resolve());
  });
  const reply = async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      // 0xx lines before a reply: what the server does with a message after VERB (verbose mode).
      const m = /^(?:(?:0\d\d[ -]|\d{3}-).*\r\n)*[1-5]\d\d(?: .*)?\r\n/.exec(buffer);
      if (m) {
        buffer = buffer.slice(m[0].length);
        return m[0].trimEnd().split('\r\n');
      }
      if (Date.now() > deadline) throw new StepFailure(failed.noAnswer, transcript);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  try {
    for (const l of lines) {
      if (l.send !== undefined) {
        for (const part of l.send.split('\n')) transcript.push(`C: ${part}`);
        socket.write(l.send.replace(/\r?\n/g, '\r\n') + '\r\n');
      }
      const r = await reply();
      transcript.push(...r.map((x) => `S: ${x}`));
      if (!new RegExp('^' + l.expect).test(r[r.length - 1]) && !new RegExp('^' + l.expect).test(r[0])) throw new StepFailure(messages(lang).reading.expectedReply(l.expect), transcript);
    }
  } finally {
    socket.destroy();
  }
  return transcript;
}
