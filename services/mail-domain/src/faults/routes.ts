/**
 * The mail domain's fault endpoints on its admin API (state.ts holds them).
 * Applying a fault that is already on, or clearing one that is off, answers
 * 200 with `changed: false`, so the lab CLI can say "already …"; bad
 * arguments answer 400 saying what is allowed.
 *
 *   GET  /faults                                    the active faults of this domain
 *   POST /faults/server-down[/clear]                port 25 closed (connection refused) / open again
 *   POST /faults/greylist?delay=60s                 greylist the first attempt of each triplet
 *   POST /faults/greylist/clear                     stop, forget the triplets
 *   POST /faults/reject?address=A&code=552&text=T   RCPT to A answers `code text`
 *   POST /faults/reject/clear?address=A             accept A again
 *   POST /faults/isolate[/clear]                    (no-Docker lab) the queue treats every remote domain as unreachable
 *   POST /faults/isolated-peer/D[/clear]            (no-Docker lab) the queue treats lab domain D as unreachable (D is isolated)
 *   POST /faults/clear                              clear every fault of this domain
 */
import { parseDuration } from '../../../core/src/duration';
import type { AccountDirectory } from '../accounts';
import { HttpError, type AdminRoute } from '../admin/server';
import { GREYLIST_DEFAULT_MS, REJECT_DEFAULT, type MailFaults } from './state';

/** The text when only a code is given (RFC 3463 enhanced status codes). */
const DEFAULT_TEXT: Record<number, string> = {
  550: '5.1.1 User unknown',
  551: '5.1.6 User not local',
  [REJECT_DEFAULT.code]: REJECT_DEFAULT.text,
  553: '5.1.3 Mailbox name not allowed',
  554: '5.7.1 Rejected',
};

/** Greylisting delays allowed: more than nothing, at most a day. */
const MAX_DELAY_MS = 86_400_000;

export function parseGreylistDelay(text: string | null): number {
  if (text === null || text === '') return GREYLIST_DEFAULT_MS;
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === null || ms <= 0 || ms > MAX_DELAY_MS) throw new HttpError(400, `--delay must be a duration from 1ms to 1d, e.g. 60s, 2m, 500ms (got "${text}")`);
  return ms;
}

export function parseRejectReply(codeText: string | null, text: string | null): { code: number; text: string } {
  const code = codeText === null || codeText === '' ? REJECT_DEFAULT.code : Number(codeText);
  if (!/^5[0-5]\d$/.test(String(code))) throw new HttpError(400, `--code must be a permanent SMTP reply code from 500 to 559, e.g. 550 (user unknown), 552 (mailbox full), 554 (got "${codeText}")`);
  const reply = text === null || text === '' ? (DEFAULT_TEXT[code] ?? '5.0.0 Rejected by the instructor') : text;
  if (/[\r\n]/.test(reply) || reply.length > 200) throw new HttpError(400, '--text must be one line of at most 200 characters, e.g. "5.2.2 Mailbox full"');
  return { code, text: reply };
}

export function faultRoutes(faults: MailFaults, accounts: AccountDirectory): AdminRoute[] {
  const domain = faults.domain;
  const localAddress = (address: string | null): string => {
    const a = (address ?? '').toLowerCase();
    const at = a.lastIndexOf('@');
    if (at <= 0 || a.slice(at + 1) !== domain) throw new HttpError(400, `give an address of ${domain}, e.g. ?address=siswa1@${domain} (got "${address ?? ''}")`);
    const local = a.slice(0, at);
    if (!accounts.localUser(local) && !accounts.expandAlias(local)) throw new HttpError(400, `${a} is neither an account nor an alias of ${domain}`);
    return a;
  };
  return [
    ['GET', /^\/faults$/, () => ({ domain, faults: faults.list() })],
    [
      'POST',
      /^\/faults\/server-down(\/clear)?$/,
      async (m) => {
        const on = !m[1];
        return { kind: 'server-down', domain, active: on, changed: await faults.setServerDown(on) };
      },
    ],
    [
      'POST',
      /^\/faults\/greylist$/,
      (_m, url) => {
        const delayMs = parseGreylistDelay(url.searchParams.get('delay'));
        return { kind: 'greylist', domain, active: true, delayMs, changed: faults.setGreylist(delayMs) };
      },
    ],
    ['POST', /^\/faults\/greylist\/clear$/, () => ({ kind: 'greylist', domain, active: false, changed: faults.clearGreylist() })],
    [
      'POST',
      /^\/faults\/reject$/,
      (_m, url) => {
        const address = localAddress(url.searchParams.get('address'));
        const reply = parseRejectReply(url.searchParams.get('code'), url.searchParams.get('text'));
        return { kind: 'reject', domain, address, ...reply, active: true, changed: faults.setReject(address, reply.code, reply.text) };
      },
    ],
    [
      'POST',
      /^\/faults\/reject\/clear$/,
      (_m, url) => {
        const address = (url.searchParams.get('address') ?? '').toLowerCase();
        if (!address) throw new HttpError(400, 'give ?address=user@domain');
        return { kind: 'reject', domain, address, active: false, changed: faults.clearReject(address) };
      },
    ],
    ['POST', /^\/faults\/isolate(\/clear)?$/, (m) => ({ kind: 'isolate', domain, active: !m[1], changed: faults.setIsolated(!m[1]) })],
    ['POST', /^\/faults\/isolated-peer\/([a-z0-9.-]+)(\/clear)?$/, (m) => ({ kind: 'isolated-peer', domain, peer: m[1], active: !m[2], changed: faults.setPeerIsolated(m[1], !m[2]) })],
    ['POST', /^\/faults\/clear$/, async () => ({ domain, cleared: await faults.clearAll() })],
  ];
}
