/**
 * The instructor's Message path page, in the style of Packet Tracer's
 * simulation mode: the event list of one message (path-model.ts: gathered
 * from every domain's `GET /trace` and the live events the web server
 * saw), with play, pause, step forward and back, a filter by kind, an
 * envelope moving along the lab's topology drawing (topology-drawing.tsx)
 * and a details pane per step (the SMTP transcript, the DNS question and
 * answer, the mbox `From ` line). Live: path.js reloads the list when an
 * event of this message arrives; `/lab/N/path/latest` switches to each new
 * message queued anywhere in the lab.
 *
 *   GET /lab/:n/path                     recent messages, and a form for an id
 *   GET /lab/:n/path?id=<Message-ID or queue id>   the path of one message
 *   GET /lab/:n/path/latest              the newest message, followed live
 *   GET /lab/:n/path/steps?id=…          the steps (htmx fragment)
 */
import { MAIL_API, type QueueListing, type TraceItem } from '../../../core/src/admin/api';
import { requireInstructor, requireLab } from '../auth/middleware';
import { currentLab, type WebApp, type WebContext } from '../context';
import { addMessages } from '../i18n';
import { page } from '../layout';
import type { WebLab } from '../labs';
import { liveUrl } from '../live/tabs';
import { clock, clockMs, countdown, decodeWords, shortDomain, type T } from './lab-format';
import { bareId, buildPath, CATEGORIES, type MessagePath, type PathStep, type StepCategory, type Words } from './path-model';
import { TopologyDrawing } from './topology-drawing';

addMessages({
  'path.title': { en: 'Message path', id: 'Jalur pesan' },
  'path.titleLab': { en: 'Message path · lab {n}', id: 'Jalur pesan · lab {n}' },
  'path.latest': { en: 'Follow the newest message', id: 'Ikuti pesan terbaru' },
  'path.following': { en: 'Following the newest message of the lab: a new message switches to it.', id: 'Mengikuti pesan terbaru di lab: pesan baru langsung ditampilkan.' },
  'path.waitingFirst': { en: 'Waiting for a message: send one (Thunderbird, swaks, telnet) and watch it here.', id: 'Menunggu pesan: kirim satu (Thunderbird, swaks, telnet) dan lihat di sini.' },
  'path.notFound': { en: 'No trace of {id} in lab {n}: give the Message-ID (with or without < >) or a queue id.', id: 'Tidak ada jejak {id} di lab {n}: berikan Message-ID (dengan atau tanpa < >) atau ID antrian.' },
  'path.recent': { en: 'Recent messages', id: 'Pesan terbaru' },
  'path.recentNone': { en: 'No message seen yet since the web server started.', id: 'Belum ada pesan sejak server web dijalankan.' },
  'path.inQueue': { en: 'In the queues now', id: 'Di antrian sekarang' },
  'path.find': { en: 'Message-ID or queue id', id: 'Message-ID atau ID antrian' },
  'path.show': { en: 'Show the path', id: 'Tampilkan jalurnya' },
  'path.subject': { en: 'Subject', id: 'Subjek' },
  'path.from': { en: 'From', id: 'Dari' },
  'path.to': { en: 'To', id: 'Kepada' },
  'path.copies': { en: 'Queue ids', id: 'ID antrian' },
  'path.stillQueued': { en: 'still in a queue', id: 'masih di antrian' },
  'path.done': { en: 'done', id: 'selesai' },
  'path.noSubject': { en: '(no subject)', id: '(tanpa subjek)' },
  'path.col.n': { en: '#', id: '#' },
  'path.col.time': { en: 'Time (s)', id: 'Waktu (dtk)' },
  'path.col.way': { en: 'From → to', id: 'Dari → ke' },
  'path.col.type': { en: 'Type', id: 'Jenis' },
  'path.col.info': { en: 'Info', id: 'Info' },
  'path.ctl.first': { en: 'First step', id: 'Langkah pertama' },
  'path.ctl.back': { en: 'Step back', id: 'Mundur' },
  'path.ctl.play': { en: 'Play', id: 'Putar' },
  'path.ctl.pause': { en: 'Pause', id: 'Jeda' },
  'path.ctl.forward': { en: 'Step forward', id: 'Maju' },
  'path.ctl.last': { en: 'Last step', id: 'Langkah terakhir' },
  'path.ctl.position': { en: 'step {i} of {n}', id: 'langkah {i} dari {n}' },
  'path.ctl.filter': { en: 'Show', id: 'Tampilkan' },
  'path.cat.smtp': { en: 'SMTP', id: 'SMTP' },
  'path.cat.dns': { en: 'DNS', id: 'DNS' },
  'path.cat.queue': { en: 'Queue', id: 'Antrian' },
  'path.cat.mailbox': { en: 'Mailbox', id: 'Mailbox' },
  'path.cat.read': { en: 'POP3/IMAP', id: 'POP3/IMAP' },
  'path.cat.notice': { en: 'Notices', id: 'Pemberitahuan' },
  'path.node.client': { en: 'client', id: 'klien' },
  'path.node.dns': { en: 'DNS', id: 'DNS' },
  'path.details': { en: 'Details', id: 'Rincian' },
  'path.detailsHint': { en: 'Click a step (or play) to see its details here.', id: 'Klik sebuah langkah (atau putar) untuk melihat rinciannya di sini.' },
  'path.transcript': { en: 'SMTP conversation ({who})', id: 'Percakapan SMTP ({who})' },
  'path.transcriptSender': { en: 'as the sender saw it', id: 'dari sisi pengirim' },
  'path.transcriptReceiver': { en: '{domain} received it: queued as {id}', id: '{domain} menerimanya: masuk antrian sebagai {id}' },
  'path.dnsQuestion': { en: 'Question', id: 'Pertanyaan' },
  'path.dnsAnswer': { en: 'Answer', id: 'Jawaban' },
  'path.dnsTime': { en: 'Lookup time', id: 'Waktu pencarian' },
  'path.dnsMs': { en: '{ms} ms', id: '{ms} md' },
  'path.dnsNone': { en: '(no record)', id: '(tidak ada rekaman)' },
  'path.mboxLine': { en: 'The separator line in the mbox file', id: 'Baris pemisah di berkas mbox' },
  'path.mboxGone': { en: 'No longer in the file (downloaded over POP3, or deleted).', id: 'Sudah tidak ada di berkas (diunduh lewat POP3, atau dihapus).' },
  'path.mboxOpen': { en: 'Open the mailbox file of {account}', id: 'Buka berkas mailbox {account}' },
  'path.noticeOpen': { en: 'The path of the notice', id: 'Jalur pemberitahuannya' },
  'path.said': { en: 'Result', id: 'Hasil' },
  'path.step.submission': { en: 'Submission to {host}', id: 'Dikirim ke {host}' },
  'path.step.smtpIn': { en: 'SMTP into {host}', id: 'SMTP masuk ke {host}' },
  'path.step.queued': { en: 'Queued at {domain}', id: 'Masuk antrian {domain}' },
  'path.step.queuedNotice.delay': { en: 'Delay notice made at {domain}', id: 'Pemberitahuan tunda dibuat di {domain}' },
  'path.step.queuedNotice.failure': { en: 'Failure notice made at {domain}', id: 'Pemberitahuan gagal dibuat di {domain}' },
  'path.step.dnsMx': { en: 'DNS: MX of {name}?', id: 'DNS: MX dari {name}?' },
  'path.step.dnsA': { en: 'DNS: A of {name}?', id: 'DNS: A dari {name}?' },
  'path.step.hop': { en: 'SMTP {from} → {to}', id: 'SMTP {from} → {to}' },
  'path.step.deferred': { en: 'Deferred: {from} → {to} failed for now', id: 'Ditunda: {from} → {to} gagal untuk sementara' },
  'path.step.bounced': { en: 'Bounced: {to} refused it', id: 'Ditolak: {to} menolaknya' },
  'path.step.deferredLocal': { en: 'Deferred: the mailbox of {rcpt} is not available', id: 'Ditunda: mailbox {rcpt} tidak tersedia' },
  'path.step.bouncedLocal': { en: 'Bounced: no mailbox {rcpt}', id: 'Ditolak: tidak ada mailbox {rcpt}' },
  'path.step.mailbox': { en: "Appended to {user}'s mailbox file", id: 'Ditambahkan ke berkas mailbox {user}' },
  'path.step.waiting': { en: "Waiting in {domain}'s queue", id: 'Menunggu di antrian {domain}' },
  'path.step.held': { en: "On hold in {domain}'s queue", id: 'Ditahan di antrian {domain}' },
  'path.step.deleted': { en: "Deleted from {domain}'s queue", id: 'Dihapus dari antrian {domain}' },
  'path.step.delayNotice': { en: 'Delay notice to {sender}', id: 'Pemberitahuan tunda ke {sender}' },
  'path.step.returned': { en: 'Returned to {sender}', id: 'Dikembalikan ke {sender}' },
  'path.step.read': { en: '{user} read it over {protocol}', id: '{user} membacanya lewat {protocol}' },
  'path.info.submissionLogin': { en: 'port {port}, logged in as {user}: queued as {id}', id: 'port {port}, login sebagai {user}: masuk antrian sebagai {id}' },
  'path.info.smtpIn': { en: 'port {port}, EHLO {helo}: queued as {id}', id: 'port {port}, EHLO {helo}: masuk antrian sebagai {id}' },
  'path.info.queued': { en: 'queue id {id}: {from} → {to}', id: 'ID antrian {id}: {from} → {to}' },
  'path.info.dns': { en: '→ {answers}', id: '→ {answers}' },
  'path.info.dnsError': { en: 'no answer: {error}', id: 'tidak ada jawaban: {error}' },
  'path.info.hop': { en: '{domain} queued it as {id}', id: '{domain} memasukkannya ke antrian sebagai {id}' },
  'path.info.mailbox': { en: 'INBOX, uid {uid}', id: 'INBOX, uid {uid}' },
  'path.info.waiting': { en: 'next attempt {next}: {rcpts}', id: 'percobaan berikutnya {next}: {rcpts}' },
  'path.info.waitingRcpts': { en: 'for {rcpts}', id: 'untuk {rcpts}' },
  'path.info.delayNotice': { en: 'the message is still waiting; the sender is told', id: 'pesan masih menunggu; pengirim diberi tahu' },
  'path.info.deleted': { en: 'by the instructor; nobody was told ({rcpts})', id: 'oleh guru; tidak ada yang diberi tahu ({rcpts})' },
  'path.info.returned': { en: 'not delivered to {rcpts}', id: 'tidak terkirim ke {rcpts}' },
  'path.info.read': { en: '{folder}, uid {uid}', id: '{folder}, uid {uid}' },
  'path.fact.port': { en: 'Port', id: 'Port' },
  'path.fact.peer': { en: 'Client', id: 'Klien' },
  'path.fact.helo': { en: 'EHLO', id: 'EHLO' },
  'path.fact.login': { en: 'Logged in as', id: 'Login sebagai' },
  'path.fact.queueId': { en: 'Queue id', id: 'ID antrian' },
  'path.fact.from': { en: 'Envelope sender', id: 'Pengirim amplop' },
  'path.fact.to': { en: 'Envelope recipients', id: 'Penerima amplop' },
  'path.fact.rcpts': { en: 'Recipients', id: 'Penerima' },
  'path.fact.host': { en: 'Connected to', id: 'Tersambung ke' },
  'path.fact.tls': { en: 'TLS', id: 'TLS' },
  'path.fact.next': { en: 'Next attempt', id: 'Percobaan berikutnya' },
  'path.fact.blocked': { en: 'Why', id: 'Sebab' },
  'path.fact.protocol': { en: 'Protocol', id: 'Protokol' },
  'path.fact.account': { en: 'Account', id: 'Akun' },
  'path.fact.folder': { en: 'Folder', id: 'Folder' },
  'path.fact.uid': { en: 'UID', id: 'UID' },
});

const words = (w: Words | undefined, t: T) => (w ? t(w.key, Object.fromEntries(Object.entries(w.params ?? {}).map(([k, v]) => [k, k === 'next' ? clock(String(v)) : v]))) : '');

const ID_MAX = 998;

/** Every domain's trace of `id`; asked again by the Message-ID when `id` was a queue id. */
async function gatherItems(lab: WebLab, id: string): Promise<TraceItem[]> {
  const ask = async (q: string) => (await Promise.all(lab.config.domains.map((d) => lab.mail(d.name).call(MAIL_API.trace, { id: q }).catch(() => [] as TraceItem[])))).flat();
  let items = await ask(id);
  const mid = items.find((i) => i.messageId)?.messageId;
  if (mid && bareId(mid) !== bareId(id)) items = [...items, ...(await ask(mid))];
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = JSON.stringify([i.kind, i.domain, 'queueId' in i ? i.queueId : '', i.time, i.kind === 'retrieved' ? `${i.user}/${i.uid}/${i.protocol}` : '', i.kind === 'queue' ? !!i.live : '']);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The separator line of the message a queue copy delivered into an mbox text (its Received line names the queue id). */
export function separatorOf(text: string, queueId: string): string | null {
  const re = new RegExp(`\\bid ${queueId}\\b`);
  const starts: number[] = [];
  if (text.startsWith('From ')) starts.push(0);
  for (let i = text.indexOf('\n\nFrom '); i >= 0; i = text.indexOf('\n\nFrom ', i + 1)) starts.push(i + 2);
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k];
    const end = k + 1 < starts.length ? starts[k + 1] : text.length;
    const headEnd = text.indexOf('\n\n', s);
    const head = text.slice(s, headEnd < 0 || headEnd > end ? end : headEnd);
    if (re.test(head)) return head.slice(0, head.indexOf('\n'));
  }
  return null;
}

export async function messagePath(c: WebContext, lab: WebLab, id: string): Promise<MessagePath | null> {
  const items = await gatherItems(lab, id);
  if (!items.length) return null;
  const recent = c.var.deps.recent;
  const mid = items.find((i) => i.messageId)?.messageId;
  const queueIds = items.flatMap((i) => ('queueId' in i ? [i.queueId] : []));
  const input = {
    id,
    items,
    events: recent.eventsOf(lab.n, mid ?? id, queueIds),
    notices: (mid ? recent.find(lab.n, mid) : undefined)?.notices ?? recent.find(lab.n, id)?.notices,
    domains: lab.config.domains.map((d) => ({ name: d.name, mailHost: d.mailHost })),
  };
  let path = buildPath(input);
  if (path.mailboxes.length) {
    const files = new Map<string, Promise<{ text: string; path: string } | null>>();
    for (const m of path.mailboxes) {
      const k = `${m.domain}/${m.user}`;
      if (!files.has(k)) files.set(k, lab.mail(m.domain).call(MAIL_API.mailbox, { user: m.user }).catch(() => null));
    }
    const mboxLines = new Map<string, { fromLine: string | null; path?: string }>();
    for (const m of path.mailboxes) {
      const f = await files.get(`${m.domain}/${m.user}`)!;
      mboxLines.set(`${m.domain}/${m.user}/${m.queueId}`, { fromLine: f ? separatorOf(f.text, m.queueId) : null, path: f?.path });
    }
    path = buildPath({ ...input, mboxLines });
  }
  return path;
}

const nodeName = (node: string, t: T) => (node === 'client' ? t('path.node.client') : node === 'dns' ? t('path.node.dns') : shortDomain(node));

function Transcript(props: { lines: string[] }) {
  return (
    <pre class="transcript">
      {props.lines.map((l) => (
        <span class={l.startsWith('C:') ? 'c' : l.startsWith('S:') ? 's' : 'x'}>{`${l}\n`}</span>
      ))}
    </pre>
  );
}

function StepDetailsView(props: { lab: WebLab; step: PathStep; t: T }) {
  const { lab, step, t } = props;
  const d = step.details;
  return (
    <section class={`step-details outcome-${step.outcome}`} data-key={step.key} hidden>
      <h3>
        <span class={`chip cat-${step.category}`}>{t(`path.cat.${step.category}`)}</span> {words(step.title, t)}
      </h3>
      {step.info && <p class="info">{words(step.info, t)}</p>}
      {step.said && (
        <p class="said">
          <span class="k">{t('path.said')}:</span> <code>{step.said}</code>
        </p>
      )}
      {d.dns && (
        <dl class="dns-qa">
          <dt>{t('path.dnsQuestion')}</dt>
          <dd>
            <code>
              {d.dns.name}. IN {d.dns.type} ?
            </code>
          </dd>
          <dt>{t('path.dnsAnswer')}</dt>
          <dd>
            {d.dns.error ? (
              <code class="err">{d.dns.error}</code>
            ) : d.dns.answers.length ? (
              d.dns.answers.map((a) => (
                <code class="ans">
                  {d.dns!.name}. IN {d.dns!.type} {a}
                </code>
              ))
            ) : (
              <em>{t('path.dnsNone')}</em>
            )}
          </dd>
          {d.dns.ms !== undefined && (
            <>
              <dt>{t('path.dnsTime')}</dt>
              <dd>{t('path.dnsMs', { ms: d.dns.ms })}</dd>
            </>
          )}
        </dl>
      )}
      {d.mbox && (
        <div class="mbox-line">
          <p class="k">{t('path.mboxLine')}</p>
          {d.mbox.fromLine !== null ? <pre class="from-line">{d.mbox.fromLine}</pre> : <p class="gone">{t('path.mboxGone')}</p>}
          <p>
            <a href={`/lab/${lab.n}/mailbox/${encodeURIComponent(`${d.mbox.user}@${d.mbox.domain}`)}`}>{t('path.mboxOpen', { account: `${d.mbox.user}@${d.mbox.domain}` })} →</a>
          </p>
        </div>
      )}
      {d.notice && (
        <p>
          <a href={`/lab/${lab.n}/path?id=${encodeURIComponent(d.notice)}`}>{t('path.noticeOpen')} →</a>
        </p>
      )}
      {d.facts.length > 0 && (
        <dl class="facts">
          {d.facts.map(([k, v]) => (
            <>
              <dt>{k.startsWith('path.') ? t(k) : k}</dt>
              <dd>{k === 'path.fact.next' ? clock(v) : v}</dd>
            </>
          ))}
        </dl>
      )}
      {d.transcript && d.transcript.length > 0 && (
        <>
          <h4>{t('path.transcript', { who: step.kind === 'submission' || step.kind === 'smtp-in' ? step.at : t('path.transcriptSender') })}</h4>
          <Transcript lines={d.transcript} />
        </>
      )}
      {d.received && (
        <>
          <h4>{t('path.transcriptReceiver', { domain: d.received.domain, id: d.received.queueId })}</h4>
          <Transcript lines={d.received.transcript} />
        </>
      )}
    </section>
  );
}

/** The message's steps, its header and the details of each step (the fragment path.js reloads). */
function PathBody(props: { lab: WebLab; path: MessagePath; t: T }) {
  const { lab, path, t } = props;
  const t0 = path.steps.length ? Date.parse(path.steps[0].time) : 0;
  const now = Date.now();
  return (
    <div
      class="path-body"
      data-id={path.id}
      data-message-id={path.messageId ? bareId(path.messageId) : ''}
      data-queue-ids={path.copies.map((c) => c.id).join(' ')}
      data-mailboxes={[...new Set(path.mailboxes.map((m) => `${m.domain}/${m.user}`))].join(' ')}
      data-pending={String(path.pending)}
      data-steps={String(path.steps.length)}
      data-server-now={new Date(now).toISOString()}
    >
      <div class="path-head">
        <p class="subject">
          <span class="k">{t('path.subject')}:</span> <strong>{path.subject !== undefined ? decodeWords(path.subject) : t('path.noSubject')}</strong>
          <span class={`status ${path.pending ? 'pending' : 'done'}`}>{path.pending ? t('path.stillQueued') : t('path.done')}</span>
        </p>
        <p class="who">
          <span class="k">{t('path.from')}</span> <code>{path.from || '<>'}</code> <span class="k">{t('path.to')}</span> <code>{path.recipients.join(', ')}</code>
          {path.messageId && <code class="mid">{path.messageId}</code>}
        </p>
      </div>
      <div class="path-list-wrap">
        <table class="path-steps">
          <thead>
            <tr>
              <th class="n">{t('path.col.n')}</th>
              <th class="time">{t('path.col.time')}</th>
              <th class="way">{t('path.col.way')}</th>
              <th class="type">{t('path.col.type')}</th>
              <th class="info">{t('path.col.info')}</th>
            </tr>
          </thead>
          <tbody>
            {path.steps.map((s, i) => (
              <tr class={`step cat-${s.category} outcome-${s.outcome}`} data-key={s.key} data-kind={s.kind} data-category={s.category} data-from={s.from} data-to={s.to} data-outcome={s.outcome} data-index={String(i)} tabindex={0}>
                <td class="n">{i + 1}</td>
                <td class="time" title={clockMs(s.time)}>
                  {((Date.parse(s.time) - t0) / 1000).toFixed(3)}
                </td>
                <td class="way">
                  {nodeName(s.from, t)}
                  {s.to !== s.from && ` → ${nodeName(s.to, t)}`}
                </td>
                <td class="type">
                  <span class={`chip cat-${s.category}`}>{t(`path.cat.${s.category}`)}</span>
                </td>
                <td class="info">
                  <span class="title">{words(s.title, t)}</span>
                  {s.kind === 'waiting' && s.info?.params?.next ? (
                    <span class="sub">
                      {' '}
                      <span class="countdown" data-at={String(s.info.params.next)} data-template={t('fmt.in', { t: '{t}' })} data-due={t('fmt.now')}>
                        {Date.parse(String(s.info.params.next)) > now ? t('fmt.in', { t: countdown(Date.parse(String(s.info.params.next)) - now) }) : t('fmt.now')}
                      </span>
                    </span>
                  ) : (
                    (s.info || s.said) && <span class="sub"> {s.info ? words(s.info, t) : s.said}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="details-store" hidden>
        {path.steps.map((s) => (
          <StepDetailsView lab={lab} step={s} t={t} />
        ))}
      </div>
    </div>
  );
}

function Controls(props: { t: T }) {
  const { t } = props;
  const B = (op: string, label: string, glyph: string) => (
    <button type="button" class={`ctl ctl-${op}`} data-op={op} title={label} aria-label={label}>
      {glyph}
    </button>
  );
  return (
    <div class="path-controls" role="toolbar">
      {B('first', t('path.ctl.first'), '|◀')}
      {B('back', t('path.ctl.back'), '◀')}
      <button type="button" class="ctl ctl-play" data-op="play" data-play={t('path.ctl.play')} data-pause={t('path.ctl.pause')} aria-label={t('path.ctl.play')} title={t('path.ctl.play')}>
        ▶ {t('path.ctl.play')}
      </button>
      {B('forward', t('path.ctl.forward'), '▶')}
      {B('last', t('path.ctl.last'), '▶|')}
      <span class="position" data-template={t('path.ctl.position', { i: '{i}', n: '{n}' })}></span>
      <fieldset class="filters">
        <legend>{t('path.ctl.filter')}</legend>
        {CATEGORIES.map((cat: StepCategory) => (
          <label class={`chip cat-${cat}`}>
            <input type="checkbox" name="cat" value={cat} checked />
            {t(`path.cat.${cat}`)}
          </label>
        ))}
      </fieldset>
    </div>
  );
}

async function playerPage(c: WebContext, lab: WebLab, id: string | null, follow: boolean): Promise<Response> {
  const t = c.var.t;
  const [path, status] = await Promise.all([id ? messagePath(c, lab, id) : Promise.resolve(null), c.var.deps.status.get(lab)]);
  return page(c, {
    title: t('path.titleLab', { n: lab.n }),
    nav: 'path',
    lab: lab.n,
    assets: ['path.css', 'path.js', 'queue.js'],
    body: (
      <div class="path-page" data-lab={String(lab.n)} data-follow={follow ? 'latest' : ''} data-id={id ?? ''} sse-connect={liveUrl({ labs: [lab.n], types: ['queue', 'mailbox', 'trace', 'link', 'fault'] })}>
        <div class="page-head">
          <h1>{t('path.titleLab', { n: lab.n })}</h1>
          {follow ? <p class="following">{t('path.following')}</p> : <a href={`/lab/${lab.n}/path/latest`}>{t('path.latest')} →</a>}
        </div>
        <Controls t={t} />
        <div class="path-grid">
          <div id="path-body" class="path-main" aria-live="polite">
            {path ? <PathBody lab={lab} path={path} t={t} /> : <p class="path-empty">{id ? t('path.notFound', { id, n: lab.n }) : t('path.waitingFirst')}</p>}
          </div>
          <div class="path-side">
            <div id="path-drawing" hx-get={`/lab/${lab.n}/topology/drawing`} hx-trigger="drawing-changed, sse:lost" hx-swap="innerHTML">
              <TopologyDrawing lab={lab} status={status} t={t} />
            </div>
            <div id="path-details" class="path-details" aria-live="polite">
              <p class="hint">{t('path.detailsHint')}</p>
            </div>
          </div>
        </div>
      </div>
    ),
  });
}

/** The newest message of the lab: the web server's memory of the live events, else the newest in a queue. */
async function newestId(c: WebContext, lab: WebLab): Promise<string | null> {
  const seen = c.var.deps.recent.latest(lab.n);
  if (seen) return seen.key;
  const queued = (await Promise.all(lab.config.domains.map((d) => lab.mail(d.name).call(MAIL_API.queue).catch(() => [] as QueueListing[])))).flat();
  const newest = queued.sort((a, b) => b.arrival.localeCompare(a.arrival))[0];
  return newest ? (newest.messageId ?? newest.id) : null;
}

function validId(id: string | undefined): string | null {
  if (!id) return null;
  const s = id.trim();
  return s && s.length <= ID_MAX && !/[\s\x00-\x1f]/.test(s) ? s : null;
}

export function registerPathPages(app: WebApp): void {
  app.get('/lab/:n/path', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    const id = validId(c.req.query('id'));
    if (id) return playerPage(c, lab, id, false);
    const recent = c.var.deps.recent.list(lab.n, 15);
    const queued = (await Promise.all(lab.config.domains.map(async (d) => (await lab.mail(d.name).call(MAIL_API.queue).catch(() => [] as QueueListing[])).map((e) => ({ domain: d.name, e }))))).flat();
    const link = (key: string) => `/lab/${lab.n}/path?id=${encodeURIComponent(key)}`;
    return page(c, {
      title: t('path.titleLab', { n: lab.n }),
      nav: 'path',
      lab: lab.n,
      assets: ['path.css'],
      body: (
        <section class="path-choose">
          <div class="page-head">
            <h1>{t('path.titleLab', { n: lab.n })}</h1>
            <a class="follow" href={`/lab/${lab.n}/path/latest`}>
              {t('path.latest')} →
            </a>
          </div>
          <form method="get" action={`/lab/${lab.n}/path`} class="find">
            <label>
              {t('path.find')} <input name="id" size={48} placeholder="<…@mail.garudayaksa.com>" />
            </label>
            <button type="submit">{t('path.show')}</button>
          </form>
          <h2>{t('path.recent')}</h2>
          {recent.length ? (
            <ul class="recent">
              {recent.map((m) => (
                <li data-key={m.key}>
                  <span class="time">{clock(m.time)}</span> <a href={link(m.key)}>{m.subject !== undefined ? decodeWords(m.subject) : t('path.noSubject')}</a>{' '}
                  <code>
                    {m.from || '<>'} → {m.recipients.join(', ')}
                  </code>
                </li>
              ))}
            </ul>
          ) : (
            <p class="none">{t('path.recentNone')}</p>
          )}
          {queued.length > 0 && (
            <>
              <h2>{t('path.inQueue')}</h2>
              <ul class="recent">
                {queued.map(({ domain, e }) => (
                  <li data-key={e.messageId ?? e.id}>
                    <span class="time">{clock(e.arrival)}</span> <a href={link(e.messageId ?? e.id)}>{e.subject !== undefined ? decodeWords(e.subject) : t('path.noSubject')}</a>{' '}
                    <code>
                      {domain} {e.id}: {e.from || '<>'} → {e.recipients.map((r) => r.address).join(', ')}
                    </code>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      ),
    });
  });

  app.get('/lab/:n/path/latest', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    return playerPage(c, lab, await newestId(c, lab), true);
  });

  app.get('/lab/:n/path/steps', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    const id = validId(c.req.query('id'));
    if (!id) return c.html(<p class="path-empty">{t('path.waitingFirst')}</p>);
    const path = await messagePath(c, lab, id);
    if (!path) return c.html(<p class="path-empty">{t('path.notFound', { id, n: lab.n })}</p>);
    return c.html(<PathBody lab={lab} path={path} t={t} />);
  });
}
