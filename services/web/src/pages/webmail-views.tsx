/**
 * The webmail's parts (pages/webmail.tsx has the routes): the folder list
 * with unread counts and the folder forms, a page of messages, the reading
 * pane (text first, HTML in a sandboxed frame, attachments, the Received
 * chain, every header), the compose form and the "show the protocol" drawer.
 * Every text from a mail (subject, names, file names, headers) is a JSX
 * string, so it is escaped: markup in it shows as text.
 */
import type { Child } from 'hono/jsx';
import type { WebContext } from '../context';
import { addMessages, type Lang } from '../i18n';
import { CsrfField } from '../layout';
import type { Address, Folder, ListedMessage, MessagePage } from '../webmail/mailbox';
import { MAX_LINES, type ProtocolRecord } from '../webmail/protocol-log';
import { ReceivedChain, type Hop } from '../webmail/received';
import { sizeInWords } from '../webmail/files';

addMessages({
  'webmail.title': { en: 'Webmail', id: 'Webmail' },
  'webmail.folders': { en: 'Folders', id: 'Folder' },
  'webmail.compose': { en: 'Write', id: 'Tulis' },
  'webmail.unread': { en: '{n} unread', id: '{n} belum dibaca' },
  'webmail.folderName.INBOX': { en: 'Inbox', id: 'Kotak masuk' },
  'webmail.folderName.Sent': { en: 'Sent', id: 'Terkirim' },
  'webmail.folderName.Drafts': { en: 'Drafts', id: 'Draf' },
  'webmail.folderName.Trash': { en: 'Trash', id: 'Sampah' },
  'webmail.folderName.Junk': { en: 'Junk', id: 'Spam' },
  'webmail.manage': { en: 'Manage folders', id: 'Kelola folder' },
  'webmail.newFolder': { en: 'New folder', id: 'Folder baru' },
  'webmail.create': { en: 'Create', id: 'Buat' },
  'webmail.renameFolder': { en: 'Rename', id: 'Ganti nama' },
  'webmail.renameTo': { en: 'to', id: 'menjadi' },
  'webmail.deleteFolder': { en: 'Delete folder', id: 'Hapus folder' },
  'webmail.deleteFolderHint': { en: 'Deletes the folder and the messages in it, on the server.', id: 'Menghapus folder beserta pesan di dalamnya, di server.' },
  'webmail.search': { en: 'Search on the server', id: 'Cari di server' },
  'webmail.searchButton': { en: 'Search', id: 'Cari' },
  'webmail.searchClear': { en: 'Show all', id: 'Tampilkan semua' },
  'webmail.found': { en: '{n} found for “{q}” (IMAP SEARCH TEXT on the server)', id: '{n} ditemukan untuk “{q}” (IMAP SEARCH TEXT di server)' },
  'webmail.count': { en: '{n} message(s)', id: '{n} pesan' },
  'webmail.empty': { en: 'No message here.', id: 'Tidak ada pesan di sini.' },
  'webmail.newer': { en: '← Newer', id: '← Lebih baru' },
  'webmail.older': { en: 'Older →', id: 'Lebih lama →' },
  'webmail.pageOf': { en: 'page {page} of {pages}', id: 'halaman {page} dari {pages}' },
  'webmail.emptyTrash': { en: 'Empty Trash', id: 'Kosongkan Sampah' },
  'webmail.col.from': { en: 'From', id: 'Dari' },
  'webmail.col.to': { en: 'To', id: 'Kepada' },
  'webmail.col.subject': { en: 'Subject', id: 'Subjek' },
  'webmail.col.date': { en: 'Date', id: 'Tanggal' },
  'webmail.col.size': { en: 'Size', id: 'Ukuran' },
  'webmail.noSubject': { en: '(no subject)', id: '(tanpa subjek)' },
  'webmail.hasAttachment': { en: 'has attachments', id: 'ada lampiran' },
  'webmail.pick': { en: 'Pick a message to read it.', id: 'Pilih sebuah pesan untuk membacanya.' },
  'webmail.cc': { en: 'Cc', id: 'Cc' },
  'webmail.replyTo': { en: 'Reply-To', id: 'Balas ke' },
  'webmail.reply': { en: 'Reply', id: 'Balas' },
  'webmail.replyAll': { en: 'Reply all', id: 'Balas semua' },
  'webmail.forward': { en: 'Forward', id: 'Teruskan' },
  'webmail.move': { en: 'Move', id: 'Pindahkan' },
  'webmail.moveTo': { en: 'Move to', id: 'Pindahkan ke' },
  'webmail.delete': { en: 'Delete', id: 'Hapus' },
  'webmail.deleteForGood': { en: 'Delete for good', id: 'Hapus permanen' },
  'webmail.source': { en: 'View source', id: 'Lihat sumber' },
  'webmail.showHtml': { en: 'Show the HTML version (no scripts, nothing remote)', id: 'Tampilkan versi HTML (tanpa skrip, tanpa muatan jarak jauh)' },
  'webmail.showText': { en: 'Show the text version', id: 'Tampilkan versi teks' },
  'webmail.htmlFrame': { en: 'The HTML of the message, in a sandbox', id: 'HTML pesan, di dalam sandbox' },
  'webmail.removed': {
    en: 'For safety: {scripts} script(s), {handlers} event handler(s), {forms} form(s) and {images} remote image(s) were left out.',
    id: 'Demi keamanan: {scripts} skrip, {handlers} event handler, {forms} formulir dan {images} gambar jarak jauh tidak ditampilkan.',
  },
  'webmail.remoteImage': { en: '[remote image not loaded: {url}]', id: '[gambar jarak jauh tidak dimuat: {url}]' },
  'webmail.attachments': { en: 'Attachments', id: 'Lampiran' },
  'webmail.download': { en: 'Download', id: 'Unduh' },
  'webmail.received': { en: 'The way it came (Received headers, oldest first)', id: 'Jalan yang ditempuh (header Received, dari yang paling awal)' },
  'webmail.headers': { en: 'All headers', id: 'Semua header' },
  'webmail.bodyEmpty': { en: '(the message has no text)', id: '(pesan ini tidak berisi teks)' },
  'webmail.gone': { en: 'This message is not in {folder} (any more).', id: 'Pesan ini (sudah) tidak ada di {folder}.' },
  'compose.title': { en: 'Write a message', id: 'Tulis pesan' },
  'compose.titleReply': { en: 'Reply', id: 'Balas' },
  'compose.titleForward': { en: 'Forward', id: 'Teruskan' },
  'compose.from': { en: 'From', id: 'Dari' },
  'compose.to': { en: 'To', id: 'Kepada' },
  'compose.cc': { en: 'Cc', id: 'Cc' },
  'compose.subject': { en: 'Subject', id: 'Subjek' },
  'compose.body': { en: 'Message', id: 'Pesan' },
  'compose.attach': { en: 'Attachments', id: 'Lampiran' },
  'compose.limit': { en: 'At most {limit} in all, attachments included (this lab’s limits.maxMessageSize).', id: 'Paling besar {limit} seluruhnya, termasuk lampiran (limits.maxMessageSize lab ini).' },
  'compose.forwarded': { en: 'The attachments of the forwarded message go with it: {names}', id: 'Lampiran pesan yang diteruskan ikut terkirim: {names}' },
  'compose.send': { en: 'Send', id: 'Kirim' },
  'compose.cancel': { en: 'Cancel', id: 'Batal' },
  'compose.how': { en: 'Sent through submission (port {port}, with your login), then kept in Sent over IMAP.', id: 'Dikirim lewat submission (port {port}, dengan login Anda), lalu disimpan di Terkirim lewat IMAP.' },
  'compose.draftBack': { en: 'Your session had ended: here is what you wrote. Attached files are not kept; choose them again.', id: 'Sesi Anda telah berakhir: ini tulisan Anda. Berkas lampiran tidak disimpan; pilih lagi.' },
  'proto.show': { en: 'Show the protocol', id: 'Tampilkan protokol' },
  'proto.counts': { en: 'IMAP {imap} · SMTP {smtp} lines, the last click', id: 'IMAP {imap} · SMTP {smtp} baris, klik terakhir' },
  'proto.none': { en: 'Nothing yet: click something (a folder, a message, Send) and see the IMAP and SMTP commands it caused.', id: 'Belum ada: klik sesuatu (folder, pesan, Kirim) dan lihat perintah IMAP dan SMTP yang ditimbulkannya.' },
  'proto.legend': { en: 'C: the web server, a mail client like any other; S: the lab’s mail server. The password is shown as ****.', id: 'C: server web, sebuah klien e-mail seperti yang lain; S: server e-mail lab. Kata sandi ditampilkan sebagai ****.' },
  'proto.dropped': { en: '… and {n} more line(s), not shown', id: '… dan {n} baris lagi, tidak ditampilkan' },
});

export type T = (key: string, params?: Record<string, string | number>) => string;

/** Query of a webmail page. */
export interface WebmailQuery {
  folder: string;
  page?: number;
  q?: string;
  uid?: number;
  view?: 'html' | 'text';
}

export function webmailUrl(lab: number, o: Partial<WebmailQuery> = {}): string {
  const p = new URLSearchParams();
  if (o.folder && o.folder !== 'INBOX') p.set('folder', o.folder);
  if (o.q) p.set('q', o.q);
  if (o.page && o.page > 1) p.set('page', String(o.page));
  if (o.uid) p.set('uid', String(o.uid));
  if (o.view === 'html') p.set('view', 'html');
  const s = p.toString();
  return `/lab/${lab}/webmail${s ? `?${s}` : ''}`;
}

/** A folder's name in the page's language (the special ones), else as it is. */
export function folderLabel(f: Pick<Folder, 'path' | 'specialUse'> | string, t: T): string {
  const path = typeof f === 'string' ? f : f.path;
  const key = path.toUpperCase() === 'INBOX' ? 'INBOX' : path;
  const label = t(`webmail.folderName.${key}`);
  return label.startsWith('webmail.folderName.') ? path : label;
}

const who = (a: Address[]) => a.map((x) => x.name || x.address).join(', ');
export const fullAddress = (a: Address) => (a.name ? `${a.name} <${a.address}>` : a.address);

/** `14:05` today, `3 Mar` this year, else `2023-03-03`, in the server's local time. */
export function shortDate(d: Date | undefined, lang: Lang): string {
  if (!d || Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const locale = lang === 'id' ? 'id-ID' : 'en-GB';
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString(locale, { day: 'numeric', month: 'short' });
  return d.toISOString().slice(0, 10);
}

export function longDate(d: Date | undefined, lang: Lang): string {
  if (!d || Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB', { dateStyle: 'full', timeStyle: 'medium' });
}

// ---------------------------------------------------------------------------
// folders

export function FolderList(props: { c: WebContext; lab: number; folders: Folder[]; current: string; t: T }) {
  const { c, lab, folders, current, t } = props;
  const special = new Set(['\\Inbox', '\\Sent', '\\Drafts', '\\Trash', '\\Junk']);
  const own = folders.filter((f) => f.selectable && !(f.specialUse && special.has(f.specialUse)));
  const action = `/lab/${lab}/webmail/folders`;
  return (
    <aside class="wm-folders" aria-label={t('webmail.folders')}>
      <a class="button compose-button" href={`/lab/${lab}/webmail/compose`}>
        {t('webmail.compose')}
      </a>
      <ul class="folder-list">
        {folders.map((f) => (
          <li class={f.path === current ? 'current' : undefined} data-folder={f.path} data-unseen={String(f.unseen)} data-messages={String(f.messages)}>
            {f.selectable ? (
              <a href={webmailUrl(lab, { folder: f.path })} aria-current={f.path === current ? 'page' : undefined}>
                <span class="folder-name">{folderLabel(f, t)}</span>
                {f.unseen > 0 && (
                  <span class="unseen" title={t('webmail.unread', { n: f.unseen })}>
                    {f.unseen}
                  </span>
                )}
              </a>
            ) : (
              <span class="folder-name muted">{f.path}</span>
            )}
          </li>
        ))}
      </ul>
      <details class="manage-folders">
        <summary>{t('webmail.manage')}</summary>
        <form method="post" action={action} class="folder-form" data-op="create">
          <CsrfField c={c} />
          <input type="hidden" name="op" value="create" />
          <label>
            {t('webmail.newFolder')} <input name="name" required maxlength={100} autocomplete="off" />
          </label>
          <button type="submit">{t('webmail.create')}</button>
        </form>
        {own.length > 0 && (
          <>
            <form method="post" action={action} class="folder-form" data-op="rename">
              <CsrfField c={c} />
              <input type="hidden" name="op" value="rename" />
              <select name="name" aria-label={t('webmail.renameFolder')}>
                {own.map((f) => (
                  <option value={f.path} selected={f.path === current}>
                    {f.path}
                  </option>
                ))}
              </select>
              <label>
                {t('webmail.renameTo')} <input name="to" required maxlength={100} autocomplete="off" />
              </label>
              <button type="submit">{t('webmail.renameFolder')}</button>
            </form>
            <form method="post" action={action} class="folder-form" data-op="delete">
              <CsrfField c={c} />
              <input type="hidden" name="op" value="delete" />
              <select name="name" aria-label={t('webmail.deleteFolder')}>
                {own.map((f) => (
                  <option value={f.path} selected={f.path === current}>
                    {f.path}
                  </option>
                ))}
              </select>
              <button type="submit" class="danger" title={t('webmail.deleteFolderHint')}>
                {t('webmail.deleteFolder')}
              </button>
            </form>
          </>
        )}
      </details>
    </aside>
  );
}

// ---------------------------------------------------------------------------
// the message list

export function MessageList(props: { c: WebContext; lab: number; list: MessagePage; selected?: number; isTrash: boolean; t: T }) {
  const { c, lab, list, t } = props;
  const lang = c.var.lang;
  const base = { folder: list.folder, q: list.query };
  const sentLike = /^(sent|drafts)$/i.test(list.folder);
  return (
    <section class="wm-list" aria-label={folderLabel(list.folder, t)}>
      <form method="get" action={`/lab/${lab}/webmail`} class="search" role="search">
        {list.folder !== 'INBOX' && <input type="hidden" name="folder" value={list.folder} />}
        <input type="search" name="q" value={list.query ?? ''} placeholder={t('webmail.search')} aria-label={t('webmail.search')} maxlength={200} />
        <button type="submit">{t('webmail.searchButton')}</button>
        {list.query && <a href={webmailUrl(lab, { folder: list.folder })}>{t('webmail.searchClear')}</a>}
      </form>
      <div class="list-head">
        <h2>{folderLabel(list.folder, t)}</h2>
        <span class="count" data-total={String(list.total)}>
          {list.query ? t('webmail.found', { n: list.total, q: list.query }) : t('webmail.count', { n: list.total })}
        </span>
        {props.isTrash && list.total > 0 && (
          <form method="post" action={`/lab/${lab}/webmail/empty-trash`} class="inline empty-trash">
            <CsrfField c={c} />
            <button type="submit" class="danger">
              {t('webmail.emptyTrash')}
            </button>
          </form>
        )}
      </div>
      {list.items.length === 0 ? (
        <p class="muted empty">{t('webmail.empty')}</p>
      ) : (
        <ul class="messages">
          {list.items.map((m: ListedMessage) => (
            <li class={`${m.seen ? 'seen' : 'unseen'}${m.uid === props.selected ? ' selected' : ''}`} data-uid={String(m.uid)}>
              <a href={webmailUrl(lab, { ...base, page: list.page, uid: m.uid })} aria-current={m.uid === props.selected ? 'true' : undefined}>
                <span class="who">{sentLike ? who(m.to) : who(m.from)}</span>
                <span class="date">{shortDate(m.date, lang)}</span>
                <span class="subject">
                  {m.attachments && <span class="clip" title={t('webmail.hasAttachment')} role="img" aria-label={t('webmail.hasAttachment')}></span>}
                  {m.subject || t('webmail.noSubject')}
                </span>
                <span class="size">{sizeInWords(m.size, lang)}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
      {list.pages > 1 && (
        <nav class="pager">
          {list.page > 1 ? <a href={webmailUrl(lab, { ...base, page: list.page - 1 })}>{t('webmail.newer')}</a> : <span />}
          <span>{t('webmail.pageOf', { page: list.page, pages: list.pages })}</span>
          {list.page < list.pages ? <a href={webmailUrl(lab, { ...base, page: list.page + 1 })} rel="next">{t('webmail.older')}</a> : <span />}
        </nav>
      )}
    </section>
  );
}

// ---------------------------------------------------------------------------
// the reading pane

export interface ReaderData {
  folder: string;
  uid: number;
  page: number;
  q?: string;
  subject: string;
  from: Address[];
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  date?: Date;
  messageId?: string;
  text: string;
  /** The sanitised HTML document for the frame, when the message has HTML and it is asked for. */
  frame?: string;
  hasHtml: boolean;
  view: 'text' | 'html';
  removed?: { scripts: number; handlers: number; remoteImages: number; forms: number };
  attachments: { index: number; filename: string; contentType: string; size: number }[];
  hops: Hop[];
  headers: string;
}

export function Reader(props: { c: WebContext; lab: number; m: ReaderData; folders: Folder[]; isTrash: boolean; instructor: boolean; t: T }) {
  const { c, lab, m, t } = props;
  const lang = c.var.lang;
  const at = { folder: m.folder, uid: m.uid };
  const qs = (extra: Record<string, string>) => new URLSearchParams({ folder: m.folder, uid: String(m.uid), ...extra }).toString();
  const removedAny = m.removed && (m.removed.scripts || m.removed.handlers || m.removed.forms || m.removed.remoteImages);
  return (
    <article class="wm-reader" data-uid={String(m.uid)} data-view={m.view}>
      <h2 class="subject">{m.subject || t('webmail.noSubject')}</h2>
      <dl class="envelope">
        <dt>{t('webmail.col.from')}</dt>
        <dd class="from">{m.from.map(fullAddress).join(', ')}</dd>
        <dt>{t('webmail.col.to')}</dt>
        <dd class="to">{m.to.map(fullAddress).join(', ')}</dd>
        {m.cc.length > 0 && (
          <>
            <dt>{t('webmail.cc')}</dt>
            <dd>{m.cc.map(fullAddress).join(', ')}</dd>
          </>
        )}
        {m.replyTo.length > 0 && (
          <>
            <dt>{t('webmail.replyTo')}</dt>
            <dd>{m.replyTo.map(fullAddress).join(', ')}</dd>
          </>
        )}
        <dt>{t('webmail.col.date')}</dt>
        <dd>{longDate(m.date, lang)}</dd>
      </dl>
      <div class="reader-actions">
        <a class="button" href={`/lab/${lab}/webmail/compose?${qs({ mode: 'reply' })}`} data-action="reply">
          {t('webmail.reply')}
        </a>
        <a class="button" href={`/lab/${lab}/webmail/compose?${qs({ mode: 'replyall' })}`} data-action="replyall">
          {t('webmail.replyAll')}
        </a>
        <a class="button" href={`/lab/${lab}/webmail/compose?${qs({ mode: 'forward' })}`} data-action="forward">
          {t('webmail.forward')}
        </a>
        <form method="post" action={`/lab/${lab}/webmail/message`} class="inline move-form">
          <CsrfField c={c} />
          <input type="hidden" name="folder" value={at.folder} />
          <input type="hidden" name="uid" value={String(at.uid)} />
          <select name="to" aria-label={t('webmail.moveTo')} required>
            <option value="" selected disabled>
              {t('webmail.moveTo')} …
            </option>
            {props.folders
              .filter((f) => f.selectable && f.path !== m.folder)
              .map((f) => (
                <option value={f.path}>{folderLabel(f, t)}</option>
              ))}
          </select>
          <button type="submit" name="op" value="move">
            {t('webmail.move')}
          </button>
        </form>
        <form method="post" action={`/lab/${lab}/webmail/message`} class="inline delete-form">
          <CsrfField c={c} />
          <input type="hidden" name="folder" value={at.folder} />
          <input type="hidden" name="uid" value={String(at.uid)} />
          <input type="hidden" name="page" value={String(m.page)} />
          <button type="submit" name="op" value="delete" class="danger">
            {props.isTrash ? t('webmail.deleteForGood') : t('webmail.delete')}
          </button>
        </form>
        <a class="button" href={`/lab/${lab}/webmail/source?${qs({})}`} data-action="source">
          {t('webmail.source')}
        </a>
      </div>
      {m.attachments.length > 0 && (
        <section class="attachments" aria-label={t('webmail.attachments')}>
          <h3>{t('webmail.attachments')}</h3>
          <ul>
            {m.attachments.map((a) => (
              <li data-attachment={String(a.index)}>
                <a href={`/lab/${lab}/webmail/attachment?${qs({ part: String(a.index) })}`} download={a.filename}>
                  <span class="file-name">{a.filename}</span>
                </a>{' '}
                <small>
                  {a.contentType}, {sizeInWords(a.size, lang)}
                </small>
              </li>
            ))}
          </ul>
        </section>
      )}
      {m.hasHtml && (
        <p class="view-switch">
          {m.view === 'html' ? (
            <a href={webmailUrl(lab, { folder: m.folder, uid: m.uid, page: m.page, q: m.q })}>{t('webmail.showText')}</a>
          ) : (
            <a href={webmailUrl(lab, { folder: m.folder, uid: m.uid, page: m.page, q: m.q, view: 'html' })} data-action="html">
              {t('webmail.showHtml')}
            </a>
          )}
        </p>
      )}
      {m.view === 'html' && m.frame !== undefined ? (
        <>
          {removedAny ? (
            <p class="notice info removed">
              {t('webmail.removed', { scripts: m.removed!.scripts, handlers: m.removed!.handlers, forms: m.removed!.forms, images: m.removed!.remoteImages })}
            </p>
          ) : null}
          <iframe class="mail-html" title={t('webmail.htmlFrame')} sandbox="" referrerpolicy="no-referrer" srcdoc={m.frame}></iframe>
        </>
      ) : (
        <pre class="body-text">{m.text || t('webmail.bodyEmpty')}</pre>
      )}
      <details class="received" open>
        <summary>{t('webmail.received')}</summary>
        <ReceivedChain hops={m.hops} t={t} lab={lab} messageId={m.messageId} instructor={props.instructor} />
      </details>
      <details class="all-headers">
        <summary>{t('webmail.headers')}</summary>
        <pre class="headers">{m.headers}</pre>
      </details>
    </article>
  );
}

// ---------------------------------------------------------------------------
// compose

export interface ComposeData {
  mode: 'new' | 'reply' | 'replyall' | 'forward';
  to: string;
  cc: string;
  subject: string;
  body: string;
  inReplyTo?: string;
  references?: string;
  /** The message replied to or forwarded. */
  folder?: string;
  uid?: number;
  forwardedFiles?: string[];
  draftRestored?: boolean;
}

export function ComposeForm(props: { c: WebContext; lab: number; from: string; submissionPort: number; limit: number; d: ComposeData; t: T }) {
  const { c, lab, d, t } = props;
  const lang = c.var.lang;
  const title = d.mode === 'forward' ? t('compose.titleForward') : d.mode === 'new' ? t('compose.title') : t('compose.titleReply');
  return (
    <section class="wm-compose">
      <h1>{title}</h1>
      {d.draftRestored && <p class="notice info draft-back">{t('compose.draftBack')}</p>}
      <form method="post" action={`/lab/${lab}/webmail/send`} enctype="multipart/form-data" class="compose-form">
        <CsrfField c={c} />
        <input type="hidden" name="_next" value={`/lab/${lab}/webmail/compose`} />
        <input type="hidden" name="mode" value={d.mode} />
        {d.inReplyTo && <input type="hidden" name="inReplyTo" value={d.inReplyTo} />}
        {d.references && <input type="hidden" name="references" value={d.references} />}
        {d.folder && <input type="hidden" name="folder" value={d.folder} />}
        {d.uid && <input type="hidden" name="uid" value={String(d.uid)} />}
        <label class="row">
          <span>{t('compose.from')}</span>
          <input value={props.from} readonly class="readonly" />
        </label>
        <label class="row">
          <span>{t('compose.to')}</span>
          <input name="to" value={d.to} required autocomplete="off" placeholder="jpri@dadali.com" />
        </label>
        <label class="row">
          <span>{t('compose.cc')}</span>
          <input name="cc" value={d.cc} autocomplete="off" />
        </label>
        <label class="row">
          <span>{t('compose.subject')}</span>
          <input name="subject" value={d.subject} maxlength={900} />
        </label>
        <label class="row body">
          <span>{t('compose.body')}</span>
          {/* A newline first: the HTML parser drops the first one of a textarea (a reply starts with two). */}
          <textarea name="body" rows={10}>
            {`\n${d.body}`}
          </textarea>
        </label>
        <label class="row">
          <span>{t('compose.attach')}</span>
          <input type="file" name="attachment" multiple />
        </label>
        <p class="hint">{t('compose.limit', { limit: sizeInWords(props.limit, lang) })}</p>
        {d.forwardedFiles && d.forwardedFiles.length > 0 && <p class="hint forwarded">{t('compose.forwarded', { names: d.forwardedFiles.join(', ') })}</p>}
        <p class="buttons">
          <button type="submit" class="primary">
            {t('compose.send')}
          </button>
          <a href={d.folder ? webmailUrl(lab, { folder: d.folder, uid: d.uid }) : `/lab/${lab}/webmail`}>{t('compose.cancel')}</a>
        </p>
        <p class="hint">{t('compose.how', { port: props.submissionPort })}</p>
      </form>
    </section>
  );
}

// ---------------------------------------------------------------------------
// the protocol drawer

export function ProtocolLines(props: { records: ProtocolRecord[]; t: T }): Child {
  const { records, t } = props;
  if (!records.length) return <p class="muted">{t('proto.none')}</p>;
  return (
    <>
      <p class="legend">{t('proto.legend')}</p>
      {records.map((r) => (
        <section class="proto-record">
          <h3>
            {r.label} <small>{new Date(r.startedAt).toLocaleTimeString('en-GB')}</small>
          </h3>
          <ol class="proto-lines">
            {r.lines.map((l) => (
              <li class={`p-${l.proto.toLowerCase()} d-${l.dir === '-' ? 'note' : l.dir.toLowerCase()}`} data-proto={l.proto} data-dir={l.dir}>
                <span class="proto">{l.proto}</span>
                <span class="dir">{l.dir === '-' ? '' : `${l.dir}:`}</span>
                <code>{l.text}</code>
              </li>
            ))}
          </ol>
          {r.dropped > 0 && <p class="muted">{t('proto.dropped', { n: r.dropped })}</p>}
        </section>
      ))}
    </>
  );
}

export function ProtocolDrawer(props: { lab: number; records: ProtocolRecord[]; t: T }) {
  const { records, t } = props;
  const count = (p: string) => records.reduce((n, r) => n + r.lines.filter((l) => l.proto === p).length, 0);
  return (
    <details class="protocol-drawer" id="protocol" hx-get={`/lab/${props.lab}/webmail/protocol`} hx-trigger="toggle" hx-target="#protocol-body" hx-swap="innerHTML">
      <summary>
        <span class="drawer-title">{t('proto.show')}</span> <span class="counts">{t('proto.counts', { imap: count('IMAP'), smtp: count('SMTP') })}</span>
      </summary>
      <div id="protocol-body" class="protocol-body" data-max={String(MAX_LINES)}>
        <ProtocolLines records={records} t={t} />
      </div>
    </details>
  );
}
