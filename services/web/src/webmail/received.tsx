/**
 * The Received chain of a message, drawn as hops: each mail server that
 * handled the message adds a `Received:` header at the top, so read from the
 * bottom up they are the way the message went (RFC 5321 4.4). Each hop:
 * from which host (its HELO and address), by which server, with what
 * (SMTP, ESMTPS, ESMTPSA: TLS and a login), the queue id, for whom, when,
 * and how long after the hop before it.
 *
 * For the instructor each hop links to the Message path page of the lab
 * (`/lab/N/path?id=<Message-ID>`); a student sees the hops only.
 */
import type { Child } from 'hono/jsx';
import { addMessages } from '../i18n';

addMessages({
  'received.none': { en: 'No Received header: this message did not travel through a mail server.', id: 'Tidak ada header Received: pesan ini tidak melewati server e-mail.' },
  'received.hop': { en: 'Hop {n}', id: 'Lompatan {n}' },
  'received.tls': { en: 'TLS', id: 'TLS' },
  'received.login': { en: 'logged in', id: 'dengan login' },
  'received.for': { en: 'for {to}', id: 'untuk {to}' },
  'received.after': { en: '{time} after the hop before', id: '{time} setelah lompatan sebelumnya' },
});

export interface Hop {
  from?: string;
  /** The part in parentheses after `from`: reverse name and [address]. */
  fromDetail?: string;
  by?: string;
  with?: string;
  id?: string;
  for?: string;
  date?: Date;
  raw: string;
}

const unfold = (s: string) => s.replace(/\r?\n[ \t]+/g, ' ').replace(/\s+/g, ' ').trim();

/** One Received header's value parsed (forgiving: a part it does not find stays unset). */
export function parseReceived(value: string): Hop {
  const raw = unfold(value);
  const semi = raw.lastIndexOf(';');
  const main = semi >= 0 ? raw.slice(0, semi) : raw;
  const dateText = semi >= 0 ? raw.slice(semi + 1).trim() : '';
  const hop: Hop = { raw };
  const word = (key: string) => new RegExp(`(?:^|\\s)${key}\\s+(\\S+)`, 'i').exec(main)?.[1];
  const from = /(?:^|\s)from\s+(\S+)(?:\s+(\([^)]*\)))?/i.exec(main);
  if (from) {
    hop.from = from[1];
    if (from[2]) hop.fromDetail = from[2].slice(1, -1);
  }
  hop.by = word('by');
  hop.with = word('with');
  hop.id = word('id')?.replace(/;$/, '');
  hop.for = word('for')?.replace(/^<|>;?$/g, '');
  if (dateText) {
    const d = new Date(dateText.replace(/\s*\([^)]*\)\s*$/, ''));
    if (!Number.isNaN(d.getTime())) hop.date = d;
  }
  return hop;
}

/** The hops in the order the message went (the last Received header first). */
export function receivedChain(received: string[]): Hop[] {
  return received.map(parseReceived).reverse();
}

type T = (key: string, params?: Record<string, string | number>) => string;

/** ESMTPSA -> "TLS, login"; ESMTPS -> "TLS"; (RFC 3848). */
export function withWords(w: string | undefined, t: T): string {
  if (!w) return '';
  const up = w.toUpperCase();
  const parts = [up];
  if (/^(ESMTPS|ESMTPSA|LMTPS|LMTPSA|UTF8SMTPS|UTF8SMTPSA)$/.test(up)) parts.push(t('received.tls'));
  if (/A$/.test(up) && /^(ESMTPA|ESMTPSA|LMTPA|LMTPSA|UTF8SMTPA|UTF8SMTPSA)$/.test(up)) parts.push(t('received.login'));
  return parts.join(', ');
}

const seconds = (ms: number) => (ms < 1000 ? `${Math.max(0, ms)} ms` : ms < 120_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 60_000)} min`);

export function ReceivedChain(props: { hops: Hop[]; t: T; lab: number; messageId?: string; instructor: boolean }): Child {
  const { hops, t } = props;
  if (!hops.length) return <p class="muted">{t('received.none')}</p>;
  const pathHref = props.instructor && props.messageId ? `/lab/${props.lab}/path?id=${encodeURIComponent(props.messageId)}` : null;
  return (
    <ol class="hops" data-hops={String(hops.length)}>
      {hops.map((h, i) => {
        const prev = i > 0 ? hops[i - 1].date : undefined;
        const delay = h.date && prev ? h.date.getTime() - prev.getTime() : undefined;
        const body = (
          <>
            <span class="hop-n">{t('received.hop', { n: i + 1 })}</span>
            <span class="hop-route">
              <span class="hop-from" title={h.fromDetail}>
                {h.from ?? '?'}
                {h.fromDetail && <small> ({h.fromDetail})</small>}
              </span>
              <span class="hop-arrow" aria-hidden="true">
                {' → '}
              </span>
              <strong class="hop-by">{h.by ?? '?'}</strong>
            </span>
            <span class="hop-meta">
              {h.with && <span class="hop-with">{withWords(h.with, t)}</span>}
              {h.id && <span class="hop-id">id {h.id}</span>}
              {h.for && <span class="hop-for">{t('received.for', { to: h.for })}</span>}
              {h.date && <time datetime={h.date.toISOString()}>{h.date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>}
              {delay !== undefined && <span class="hop-delay">{t('received.after', { time: seconds(delay) })}</span>}
            </span>
          </>
        );
        return (
          <li class="hop" title={h.raw}>
            {pathHref ? (
              <a class="hop-link" href={pathHref}>
                {body}
              </a>
            ) : (
              body
            )}
          </li>
        );
      })}
    </ol>
  );
}
