/**
 * The instructor's Queue page of one lab, like `mailq` on each mail domain:
 * per message its queue id, sender, recipients each with its own state,
 * size, arrival, attempts, the last result in words, a countdown to the next
 * attempt and the way toward the delay warning and the return (the admin
 * API's nextAttempt, warnAt, returnAt; queue.js keeps them counting); the
 * actions of postsuper (retry now, hold/release, delete, return to sender)
 * and the queue profile, through the admin API. Redrawn live on the lab's
 * queue events.
 *
 *   GET  /lab/:n/queue[?domain=d]          the page (every domain, or one)
 *   GET  /lab/:n/queue/list[?domain=d]     the queues (htmx fragment)
 *   POST /lab/:n/queue/action              domain, op=flush|hold|release|delete|expire|profile, id?, profile?
 */
import { MAIL_API, QUEUE_ACTIONS, type QueueListing, type QueueProfileInfo } from '../../../core/src/admin/api';
import { formFields, requireInstructor, requireLab } from '../auth/middleware';
import { currentLab, isHtmx, type WebApp, type WebContext } from '../context';
import { errorPage } from '../error-page';
import { addMessages } from '../i18n';
import { CsrfField, page } from '../layout';
import type { WebLab } from '../labs';
import { liveTrigger, liveUrl } from '../live/tabs';
import { bytes, clock, countdown, decodeWords, duration, type T } from './lab-format';

addMessages({
  'queue.title': { en: 'Queue of lab {n}', id: 'Antrian lab {n}' },
  'queue.all': { en: 'All domains', id: 'Semua domain' },
  'queue.of': { en: 'Queue of {domain}', id: 'Antrian {domain}' },
  'queue.count': { en: '{n} message(s) in the queue, {waiting} waiting to be retried, {held} on hold', id: '{n} pesan di antrian, {waiting} menunggu dicoba lagi, {held} ditahan' },
  'queue.empty': { en: 'Mail queue is empty', id: 'Antrian surat kosong' },
  'queue.unreachable': { en: '{domain} does not answer: {error}', id: '{domain} tidak menjawab: {error}' },
  'queue.profile': { en: 'retry every {retry}, delay warning after {warn}, returned after {ret}', id: 'dicoba lagi tiap {retry}, peringatan tunda setelah {warn}, dikembalikan setelah {ret}' },
  'queue.profileLabel': { en: 'queue profile', id: 'profil antrian' },
  'queue.switch': { en: 'Switch', id: 'Ganti' },
  'queue.flushAll': { en: 'Retry all now', id: 'Coba kirim semua sekarang' },
  'queue.id': { en: 'Queue ID', id: 'ID antrian' },
  'queue.from': { en: 'From', id: 'Dari' },
  'queue.to': { en: 'To', id: 'Kepada' },
  'queue.subject': { en: 'Subject', id: 'Subjek' },
  'queue.size': { en: 'Size', id: 'Ukuran' },
  'queue.arrival': { en: 'Arrived', id: 'Tiba' },
  'queue.arrivalAt': { en: '{time} ({ago})', id: '{time} ({ago})' },
  'queue.attempts': { en: 'Attempts', id: 'Percobaan' },
  'queue.lastResult': { en: 'Last result', id: 'Hasil terakhir' },
  'queue.notTried': { en: 'not tried yet', id: 'belum dicoba' },
  'queue.nextAttempt': { en: 'Next attempt', id: 'Percobaan berikutnya' },
  'queue.nextAt': { en: 'at {time}', id: 'pukul {time}' },
  'queue.heldNoRetry': { en: 'on hold: not retried until released', id: 'ditahan: tidak dicoba sampai dilepas' },
  'queue.held': { en: 'ON HOLD', id: 'DITAHAN' },
  'queue.state.pending': { en: 'waiting', id: 'menunggu' },
  'queue.state.delivered': { en: 'delivered', id: 'terkirim' },
  'queue.state.bounced': { en: 'failed', id: 'gagal' },
  'queue.warn': { en: 'Delay warning', id: 'Peringatan tunda' },
  'queue.warnSent': { en: 'sent to the sender', id: 'sudah dikirim ke pengirim' },
  'queue.return': { en: 'Returned to sender', id: 'Dikembalikan ke pengirim' },
  'queue.dueIn': { en: 'at {time}, in {t}', id: 'pukul {time}, dalam {t}' },
  'queue.notice.delay': { en: 'delay notice', id: 'pemberitahuan tunda' },
  'queue.notice.failure': { en: 'failure notice', id: 'pemberitahuan gagal' },
  'queue.path': { en: 'Message path', id: 'Jalur pesan' },
  'queue.btn.flush': { en: 'Retry now', id: 'Coba sekarang' },
  'queue.btn.hold': { en: 'Hold', id: 'Tahan' },
  'queue.btn.release': { en: 'Release', id: 'Lepas' },
  'queue.btn.delete': { en: 'Delete', id: 'Hapus' },
  'queue.btn.expire': { en: 'Return to sender', id: 'Kembalikan ke pengirim' },
  'queue.result.flush': { en: '{domain}: retrying now: {ids}', id: '{domain}: dicoba sekarang: {ids}' },
  'queue.result.flushNone': { en: '{domain}: nothing to retry', id: '{domain}: tidak ada yang perlu dicoba' },
  'queue.result.held': { en: '{id}: on hold', id: '{id}: ditahan' },
  'queue.result.released': { en: '{id}: released', id: '{id}: dilepas' },
  'queue.result.already': { en: '{id}: it already was so', id: '{id}: memang sudah begitu' },
  'queue.result.deleted': { en: '{id}: deleted from the queue', id: '{id}: dihapus dari antrian' },
  'queue.result.expired': { en: '{id}: returned to the sender', id: '{id}: dikembalikan ke pengirim' },
  'queue.result.profile': { en: '{domain}: queue profile {profile} ({rescheduled} of {queued} message(s) rescheduled)', id: '{domain}: profil antrian {profile} ({rescheduled} dari {queued} pesan dijadwalkan ulang)' },
  'queue.result.profileSame': { en: '{domain}: already queue profile {profile}', id: '{domain}: sudah memakai profil antrian {profile}' },
  'queue.result.failed': { en: 'failed: {error}', id: 'gagal: {error}' },
  'queue.badRequest': { en: 'This queue action is not known: {detail}', id: 'Tindakan antrian ini tidak dikenal: {detail}' },
});

interface DomainQueue {
  domain: string;
  entries: QueueListing[] | null;
  profile: QueueProfileInfo | null;
  error?: string;
}

const short = (e: unknown) => (e as Error).message.split('\n')[0];

async function readQueues(lab: WebLab, only?: string): Promise<DomainQueue[]> {
  const domains = lab.config.domains.map((d) => d.name).filter((d) => !only || d === only);
  return Promise.all(
    domains.map(async (domain): Promise<DomainQueue> => {
      const client = lab.mail(domain);
      const [entries, profile] = await Promise.allSettled([client.call(MAIL_API.queue), client.call(MAIL_API.queueProfile)]);
      return {
        domain,
        entries: entries.status === 'fulfilled' ? entries.value : null,
        profile: profile.status === 'fulfilled' ? profile.value : null,
        error: entries.status === 'rejected' ? short(entries.reason) : undefined,
      };
    }),
  );
}

/** A countdown the browser keeps counting (queue.js): the server's words first. */
function Countdown(props: { at: string; now: number; t: T }) {
  const ms = Date.parse(props.at) - props.now;
  return (
    <span class="countdown" data-at={props.at} data-template={props.t('fmt.in', { t: '{t}' })} data-due={props.t('fmt.now')}>
      {ms > 0 ? props.t('fmt.in', { t: countdown(ms) }) : props.t('fmt.now')}
    </span>
  );
}

/** The way from the arrival to a deadline (the delay warning, the return), counted on by queue.js. */
function Deadline(props: { label: string; from: string; to: string; now: number; done?: string; t: T; kind: string }) {
  const { from, to, now, t } = props;
  const span = Math.max(1, Date.parse(to) - Date.parse(from));
  const part = props.done ? 1 : Math.min(1, Math.max(0, (now - Date.parse(from)) / span));
  return (
    <div class={`deadline ${props.kind}${props.done ? ' done' : ''}`} data-from={from} data-to={to}>
      <span class="label">{props.label}</span>
      <progress max="1000" value={String(Math.round(part * 1000))} aria-label={props.label}></progress>
      <span class="when">
        {props.done ?? (
          <>
            {clock(to)}, <Countdown at={to} now={now} t={t} />
          </>
        )}
      </span>
    </div>
  );
}

function ActionForm(props: { c: WebContext; lab: WebLab; domain: string; op: string; id?: string; label: string; kind?: string }) {
  const action = `/lab/${props.lab.n}/queue/action`;
  return (
    <form method="post" action={action} hx-post={action} hx-target="#queue-result" hx-swap="innerHTML" class="inline">
      <CsrfField c={props.c} />
      <input type="hidden" name="domain" value={props.domain} />
      <input type="hidden" name="op" value={props.op} />
      {props.id && <input type="hidden" name="id" value={props.id} />}
      <button type="submit" class={props.kind ?? 'plain'} data-op={props.op}>
        {props.label}
      </button>
    </form>
  );
}

function Entry(props: { c: WebContext; lab: WebLab; domain: string; e: QueueListing; now: number; t: T }) {
  const { c, lab, domain, e, now, t } = props;
  const pathId = e.messageId ?? e.id;
  // The message's last result when no recipient line says it already.
  const said = e.recipients.some((r) => r.lastError);
  const result = e.held ? t('queue.heldNoRetry') : !e.attempts ? t('queue.notTried') : !said ? e.lastError : undefined;
  return (
    <article class={`q-entry${e.held ? ' held' : ''}${e.attempts ? ' deferred' : ''}`} data-id={e.id} data-held={String(e.held)} data-attempts={String(e.attempts)}>
      <header>
        <span class="qid">{e.id}</span>
        {e.held && <span class="tag held">{t('queue.held')}</span>}
        <span class="size">{bytes(e.size, t)}</span>
        <span class="arrival">
          {t('queue.arrival')}: {t('queue.arrivalAt', { time: clock(e.arrival), ago: t('fmt.ago', { d: duration(e.ageMs, t) }) })}
        </span>
        <span class="attempts">
          {t('queue.attempts')}: <strong>{e.attempts}</strong>
        </span>
        <a class="path-link" href={`/lab/${lab.n}/path?id=${encodeURIComponent(pathId)}`}>
          {t('queue.path')} →
        </a>
      </header>
      <p class="sender">
        <span class="k">{t('queue.from')}</span> <span class="addr">{e.from || '<>'}</span>
        {e.subject !== undefined && (
          <>
            {' · '}
            <span class="k">{t('queue.subject')}</span> <span class="subject">{decodeWords(e.subject)}</span>
          </>
        )}
      </p>
      <ul class="rcpts" aria-label={t('queue.to')}>
        {e.recipients.map((r) => (
          <li class={`rcpt ${r.status}`} data-rcpt={r.address} data-status={r.status}>
            <span class="arrow">→</span> <span class="addr">{r.address}</span> <span class={`state ${r.status}`}>{t(`queue.state.${r.status}`)}</span>
            <span class="n">({t('queue.attempts').toLowerCase()}: {r.attempts})</span>
            {r.status === 'pending' && r.nextAttempt && !e.held && (
              <span class="next">
                {t('queue.nextAttempt')} {t('queue.nextAt', { time: clock(r.nextAttempt) })}: <Countdown at={r.nextAttempt} now={now} t={t} />
              </span>
            )}
            {r.lastError && <span class="last">{r.lastError}</span>}
          </li>
        ))}
      </ul>
      {result && (
        <p class="result">
          <span class="k">{t('queue.lastResult')}:</span> <span class="v">{result}</span>
        </p>
      )}
      <div class="q-foot">
        <Deadline kind="warn" label={t('queue.warn')} from={e.arrival} to={e.warnAt} now={now} done={e.warned ? t('queue.warnSent') : undefined} t={t} />
        <Deadline kind="return" label={t('queue.return')} from={e.arrival} to={e.returnAt} now={now} t={t} />
        <div class="q-actions">
          <ActionForm c={c} lab={lab} domain={domain} op="flush" id={e.id} label={t('queue.btn.flush')} kind="ok" />
          {e.held ? <ActionForm c={c} lab={lab} domain={domain} op="release" id={e.id} label={t('queue.btn.release')} kind="ok" /> : <ActionForm c={c} lab={lab} domain={domain} op="hold" id={e.id} label={t('queue.btn.hold')} />}
          <ActionForm c={c} lab={lab} domain={domain} op="expire" id={e.id} label={t('queue.btn.expire')} kind="danger" />
          <ActionForm c={c} lab={lab} domain={domain} op="delete" id={e.id} label={t('queue.btn.delete')} kind="danger" />
        </div>
      </div>
    </article>
  );
}

function DomainSection(props: { c: WebContext; lab: WebLab; q: DomainQueue; now: number; t: T }) {
  const { c, lab, q, now, t } = props;
  const entries = q.entries ?? [];
  const waiting = entries.filter((e) => e.attempts > 0 && !e.held).length;
  const held = entries.filter((e) => e.held).length;
  const action = `/lab/${lab.n}/queue/action`;
  return (
    <section class="q-domain" data-domain={q.domain} data-size={q.entries ? String(entries.length) : ''}>
      <div class="q-head">
        <h2>{t('queue.of', { domain: q.domain })}</h2>
        {q.entries && <span class="count">{t('queue.count', { n: entries.length, waiting, held })}</span>}
        <span class="spacer"></span>
        <ActionForm c={c} lab={lab} domain={q.domain} op="flush" label={t('queue.flushAll')} kind="ok" />
      </div>
      {q.profile && (
        <form method="post" action={action} hx-post={action} hx-target="#queue-result" class="q-profile" data-profile={q.profile.name}>
          <CsrfField c={c} />
          <input type="hidden" name="domain" value={q.domain} />
          <input type="hidden" name="op" value="profile" />
          <label>
            {t('queue.profileLabel')}{' '}
            <select name="profile">
              {q.profile.available.map((p) => (
                <option value={p} selected={p === q.profile!.name}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">{t('queue.switch')}</button>
          <span class="timings">{t('queue.profile', { retry: duration(q.profile.retryInterval, t), warn: duration(q.profile.warnAfter, t), ret: duration(q.profile.returnAfter, t) })}</span>
        </form>
      )}
      {!q.entries ? (
        <p class="notice error">{t('queue.unreachable', { domain: q.domain, error: q.error ?? '?' })}</p>
      ) : entries.length ? (
        entries.map((e) => <Entry c={c} lab={lab} domain={q.domain} e={e} now={now} t={t} />)
      ) : (
        <p class="q-empty">{t('queue.empty')}</p>
      )}
    </section>
  );
}

function Queues(props: { c: WebContext; lab: WebLab; queues: DomainQueue[]; t: T }) {
  const now = Date.now();
  return (
    <div class="queues" data-server-now={new Date(now).toISOString()}>
      {props.queues.map((q) => (
        <DomainSection c={props.c} lab={props.lab} q={q} now={now} t={props.t} />
      ))}
    </div>
  );
}

/** `?domain=` when it is one of the lab's domains. */
function domainParam(c: WebContext, lab: WebLab): string | undefined {
  const d = c.req.query('domain');
  return d && lab.config.domains.some((x) => x.name === d) ? d : undefined;
}

const ID = /^[A-Za-z0-9]{1,64}$/;

export function registerQueuePages(app: WebApp): void {
  app.get('/lab/:n/queue', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    const only = domainParam(c, lab);
    const queues = await readQueues(lab, only);
    const list = `/lab/${lab.n}/queue/list${only ? `?domain=${encodeURIComponent(only)}` : ''}`;
    return page(c, {
      title: t('queue.title', { n: lab.n }),
      nav: 'queue',
      lab: lab.n,
      assets: ['queue.css', 'queue.js'],
      body: (
        <div class="queue-page" sse-connect={liveUrl({ labs: [lab.n], types: ['queue'] })}>
          <div class="page-head">
            <h1>{t('queue.title', { n: lab.n })}</h1>
            <nav class="lab-switch" aria-label={t('queue.all')}>
              <a href={`/lab/${lab.n}/queue`} class={only ? undefined : 'current'}>
                {t('queue.all')}
              </a>
              {lab.config.domains.map((d) => (
                <a href={`/lab/${lab.n}/queue?domain=${encodeURIComponent(d.name)}`} class={only === d.name ? 'current' : undefined}>
                  {d.name}
                </a>
              ))}
            </nav>
          </div>
          <div id="queue-result" class="action-result" aria-live="polite"></div>
          <div id="queue-list" hx-get={list} hx-trigger={liveTrigger('every 30s')} hx-swap="innerHTML">
            <Queues c={c} lab={lab} queues={queues} t={t} />
          </div>
        </div>
      ),
    });
  });

  app.get('/lab/:n/queue/list', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const queues = await readQueues(lab, domainParam(c, lab));
    return c.html(<Queues c={c} lab={lab} queues={queues} t={c.var.t} />);
  });

  app.post('/lab/:n/queue/action', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    const f = await formFields(c);
    const text = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
    const domain = text('domain');
    const op = text('op');
    const id = text('id') || undefined;
    const bad = (detail: string) => errorPage(c, 400, 'queue.badRequest', { detail });
    if (!domain || !lab.config.domains.some((d) => d.name === domain)) return bad(`domain ${domain ?? '(none)'}`);
    if (id !== undefined && !ID.test(id)) return bad(`id ${id}`);
    const client = lab.mail(domain);
    let words: string;
    let ok = true;
    try {
      if (op === 'flush') {
        const r = await client.call(MAIL_API.flush, id ? { id } : {});
        words = r.flushed.length ? t('queue.result.flush', { domain, ids: r.flushed.join(', ') }) : t('queue.result.flushNone', { domain });
      } else if (op === 'profile') {
        const profile = text('profile');
        if (!profile) return bad('profile');
        const r = await client.call(MAIL_API.setQueueProfile, { name: profile });
        words = r.changed ? t('queue.result.profile', { domain, profile: r.profile.name, rescheduled: r.rescheduled, queued: r.queued }) : t('queue.result.profileSame', { domain, profile: r.profile.name });
      } else if ((QUEUE_ACTIONS as readonly string[]).includes(op ?? '')) {
        if (!id) return bad('id');
        const r = await client.call(MAIL_API.queueAction, { id, action: op as (typeof QUEUE_ACTIONS)[number] });
        words = t(`queue.result.${r.result}`, { id });
      } else return bad(`op ${op ?? '(none)'}`);
    } catch (e) {
      ok = false;
      words = t('queue.result.failed', { error: short(e) });
    }
    c.var.deps.logger.info('instructor queue action', { lab: lab.n, domain, op, id, ok });
    const body = (
      <div class="results" role="status" data-ok={String(ok)}>
        <ul>
          <li class={ok ? 'ok' : 'failed'}>
            <strong>{t('lab.n', { n: lab.n })}</strong> {words}
          </li>
        </ul>
      </div>
    );
    if (isHtmx(c)) return c.html(body);
    return page(c, { title: t('queue.title', { n: lab.n }), nav: 'queue', lab: lab.n, body: <>{body}<p><a href={`/lab/${lab.n}/queue`}>{t('queue.title', { n: lab.n })}</a></p></> });
  });
}
