/**
 * The students' Webmail: their own lab account over the lab's own IMAP and
 * submission servers (mail-session.ts, webmail/mailbox.ts), never a file of
 * the mailbox. Every request logs in, does its IMAP (or SMTP) and logs out,
 * and what it said is kept for the "show the protocol" drawer
 * (webmail/protocol-log.ts): the commands and replies the last click caused.
 *
 *   GET  /lab/:n/webmail?folder=&page=&q=&uid=&view=html   folders, a page of messages (or of a search), a message
 *   GET  /lab/:n/webmail/compose?mode=reply|replyall|forward&folder=&uid=&draft=
 *   POST /lab/:n/webmail/send                  multipart: to, cc, subject, body, attachment…
 *   POST /lab/:n/webmail/message               op=move|delete, folder, uid, to
 *   POST /lab/:n/webmail/empty-trash
 *   POST /lab/:n/webmail/folders               op=create|rename|delete, name, to
 *   GET  /lab/:n/webmail/attachment?folder=&uid=&part=
 *   GET  /lab/:n/webmail/source?folder=&uid=[&download=1]
 *   GET  /lab/:n/webmail/protocol              the drawer's lines (htmx fragment)
 *
 * Student only (the instructor has no mailbox: 403), in their own lab (403
 * for another). A form sent after the session ended comes back as a draft
 * (auth/drafts.ts); files are not kept, the page says so.
 */
import type { ImapFlow } from 'imapflow';
import type { Child } from 'hono/jsx';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { requireLab, requireStudent, takeDraft } from '../auth/middleware';
import type { Session } from '../auth/sessions';
import { currentLab, currentSession, isNavigation, type WebApp, type WebContext } from '../context';
import { addMessages, type Lang } from '../i18n';
import { page } from '../layout';
import type { WebLab } from '../labs';
import { closeStudentImap, openStudentImap, studentSubmission } from '../mail-session';
import { buildMessage, ComposeError, forwardSubject, quote, replySubject, type Upload } from '../webmail/compose';
import { contentDisposition, safeContentType, safeFilename, sizeInWords } from '../webmail/files';
import { checkFolderName, deleteMessage, emptyFolder, fetchMessage, FolderNameError, keepSent, listFolders, listMessages, moveMessage, specialFolder, type Address, type Folder, type MessagePage } from '../webmail/mailbox';
import { carryToNextPage, lastClick, ProtocolLog, rememberClick, type ProtocolRecord } from '../webmail/protocol-log';
import { receivedChain } from '../webmail/received';
import { frameDocument, sanitizeHtml } from '../webmail/sanitize';
import { ComposeForm, FolderList, folderLabel, fullAddress, longDate, MessageList, ProtocolDrawer, ProtocolLines, Reader, webmailUrl, type ComposeData, type ReaderData, type T } from './webmail-views';

addMessages({
  'webmail.noFolder': { en: 'There is no folder {folder}.', id: 'Tidak ada folder {folder}.' },
  'webmail.imapFailed': { en: 'The IMAP server of your lab answered: {detail}', id: 'Server IMAP lab Anda menjawab: {detail}' },
  'webmail.unreachable': { en: "Your lab's mail server does not answer ({detail}). Is the lab running?", id: 'Server e-mail lab Anda tidak menjawab ({detail}). Apakah lab berjalan?' },
  'webmail.moved': { en: 'Moved to {folder}.', id: 'Dipindahkan ke {folder}.' },
  'webmail.deletedToTrash': { en: 'Moved to Trash.', id: 'Dipindahkan ke Sampah.' },
  'webmail.deletedForGood': { en: 'Deleted for good (STORE \\Deleted, EXPUNGE).', id: 'Dihapus permanen (STORE \\Deleted, EXPUNGE).' },
  'webmail.emptied': { en: 'Trash emptied: {n} message(s) deleted for good.', id: 'Sampah dikosongkan: {n} pesan dihapus permanen.' },
  'webmail.folderCreated': { en: 'Folder {folder} created.', id: 'Folder {folder} dibuat.' },
  'webmail.folderRenamed': { en: 'Folder {from} renamed to {to}.', id: 'Folder {from} diganti nama menjadi {to}.' },
  'webmail.folderDeleted': { en: 'Folder {folder} deleted.', id: 'Folder {folder} dihapus.' },
  'webmail.folderExists': { en: 'there is a folder {folder} already', id: 'folder {folder} sudah ada' },
  'webmail.badFolderName': { en: '“{name}” cannot be a folder name: use letters, digits, spaces and / between levels (no * % " \\).', id: '“{name}” tidak bisa menjadi nama folder: pakai huruf, angka, spasi dan / di antara tingkat (tanpa * % " \\).' },
  'webmail.specialFolder': { en: '{folder} is one of the special folders: it cannot be renamed or deleted.', id: '{folder} adalah folder khusus: tidak bisa diganti nama atau dihapus.' },
  'webmail.badRequest': { en: 'This request is not complete ({what}).', id: 'Permintaan ini tidak lengkap ({what}).' },
  'webmail.sent': { en: 'Sent to {to}; a copy is in {folder}.', id: 'Terkirim ke {to}; salinannya ada di {folder}.' },
  'webmail.sentNoCopy': { en: 'Sent to {to}, but the copy for Sent could not be kept: {detail}', id: 'Terkirim ke {to}, tetapi salinan untuk Terkirim tidak bisa disimpan: {detail}' },
  'webmail.noAttachment': { en: 'This message has no such attachment.', id: 'Pesan ini tidak punya lampiran itu.' },
  'webmail.sourceTitle': { en: 'Source of “{subject}”', id: 'Sumber “{subject}”' },
  'webmail.sourceIntro': { en: 'The message exactly as the IMAP server gives it (FETCH BODY.PEEK[]): {size}.', id: 'Pesan persis seperti yang diberikan server IMAP (FETCH BODY.PEEK[]): {size}.' },
  'webmail.sourceCut': { en: 'Only the first {shown} are shown here.', id: 'Hanya {shown} pertama yang ditampilkan di sini.' },
  'webmail.sourceDownload': { en: 'Download it as a file (.eml)', id: 'Unduh sebagai berkas (.eml)' },
  'webmail.back': { en: '← Back to the message', id: '← Kembali ke pesan' },
  'compose.noRecipient': { en: 'Who is it for? Write at least one address in To or Cc.', id: 'Untuk siapa? Tulis paling sedikit satu alamat di Kepada atau Cc.' },
  'compose.badAddress': { en: '“{address}” is not an e-mail address (user@domain).', id: '“{address}” bukan alamat e-mail (user@domain).' },
  'compose.tooManyRecipients': { en: '{n} recipients: at most 100 at once.', id: '{n} penerima: paling banyak 100 sekaligus.' },
  'compose.tooBig': {
    en: 'Too big: the message with its attachments is {size}, and this lab accepts at most {limit} per message (limits.maxMessageSize = {bytes} bytes). Leave out a file, or send it in a smaller size.',
    id: 'Terlalu besar: pesan beserta lampirannya {size}, sedangkan lab ini menerima paling besar {limit} per pesan (limits.maxMessageSize = {bytes} byte). Tinggalkan sebuah berkas, atau kirim dalam ukuran lebih kecil.',
  },
  'compose.tooBigEncoded': {
    en: 'Too big: encoded for mail (base64 makes files a third bigger) the message is {size}, and this lab accepts at most {limit} per message (limits.maxMessageSize = {bytes} bytes). Leave out a file.',
    id: 'Terlalu besar: setelah dikodekan untuk e-mail (base64 membuat berkas sepertiga lebih besar) pesannya {size}, sedangkan lab ini menerima paling besar {limit} per pesan (limits.maxMessageSize = {bytes} byte). Tinggalkan sebuah berkas.',
  },
  'compose.refused': { en: 'The submission server refused the message: {reply}', id: 'Server submission menolak pesan: {reply}' },
  'compose.wrote': { en: 'On {date}, {who} wrote:', id: 'Pada {date}, {who} menulis:' },
  'compose.forwardHead': { en: '---------- Forwarded message ----------', id: '---------- Pesan yang diteruskan ----------' },
  'proto.label.page': { en: 'Open {folder}', id: 'Buka {folder}' },
  'proto.label.read': { en: 'Read message {uid} in {folder}', id: 'Baca pesan {uid} di {folder}' },
  'proto.label.search': { en: 'Search “{q}” in {folder}', id: 'Cari “{q}” di {folder}' },
  'proto.label.compose': { en: 'Prepare the reply / forward', id: 'Siapkan balasan / penerusan' },
  'proto.label.send': { en: 'Send (submission, SMTP)', id: 'Kirim (submission, SMTP)' },
  'proto.label.keep': { en: 'Keep a copy in Sent (IMAP APPEND)', id: 'Simpan salinan di Terkirim (IMAP APPEND)' },
  'proto.label.forward': { en: 'Fetch the forwarded message', id: 'Ambil pesan yang diteruskan' },
  'proto.label.move': { en: 'Move message {uid}', id: 'Pindahkan pesan {uid}' },
  'proto.label.delete': { en: 'Delete message {uid}', id: 'Hapus pesan {uid}' },
  'proto.label.empty': { en: 'Empty Trash', id: 'Kosongkan Sampah' },
  'proto.label.folder': { en: 'Folder: {op} {name}', id: 'Folder: {op} {name}' },
  'proto.label.download': { en: 'Download an attachment of message {uid}', id: 'Unduh lampiran pesan {uid}' },
  'proto.label.source': { en: 'Source of message {uid}', id: 'Sumber pesan {uid}' },
});

const SPECIAL_FOLDERS = new Set(['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk']);
/** The most of a message's source shown on the page (the whole is downloadable). */
const SOURCE_SHOWN = 512 * 1024;
/** Inline images of an HTML mail made data: URLs up to this size each. */
const INLINE_IMAGE_MAX = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------
// request helpers

interface Student {
  c: WebContext;
  lab: WebLab;
  session: Session;
  t: T;
  logs: ProtocolRecord[];
}

const student = (c: WebContext): Student => ({ c, lab: currentLab(c), session: currentSession(c), t: c.var.t, logs: [] });

/** One IMAP session with the student's login: connect, LOGIN, `fn`, LOGOUT; its lines go to `s.logs`. */
async function withImap<R>(s: Student, label: string, fn: (imap: ImapFlow) => Promise<R>): Promise<R> {
  const log = new ProtocolLog(label, [s.session.password], s.session.user);
  s.logs.push(log);
  const imap = await openStudentImap(s.lab, s.session, { logger: log.imapLogger() });
  try {
    return await fn(imap);
  } finally {
    await closeStudentImap(imap);
  }
}

/** A failure of IMAP/SMTP in words: the server's own reply when there is one. */
function failureText(e: unknown, t: T): string {
  const x = e as { responseText?: string; response?: string; code?: string; message?: string; serverResponseCode?: string };
  if (x.code && /^(ECONNREFUSED|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|NoConnection|ETIMEOUT|ESOCKET|ECONNECTION)$/.test(x.code)) return t('webmail.unreachable', { detail: x.code });
  return t('webmail.imapFailed', { detail: x.responseText || x.response || x.message || String(e) });
}

/** One notice per session, shown by the next page (a POST's result). */
const flashes = new WeakMap<object, { kind: 'info' | 'error'; text: string }>();
const flash = (s: Student, kind: 'info' | 'error', text: string) => flashes.set(s.session, { kind, text });
function takeFlash(session: Session) {
  const f = flashes.get(session);
  flashes.delete(session);
  return f;
}

const str = (v: unknown, max = 2000) => (typeof v === 'string' ? v.slice(0, max) : '');
const uidOf = (v: unknown) => (typeof v === 'string' && /^\d{1,10}$/.test(v) && Number(v) > 0 ? Number(v) : undefined);
const folderParam = (v: unknown) => {
  const f = str(v, 300).trim();
  return f && !/[\u0000-\u001f\u007f]/.test(f) ? f : 'INBOX';
};

/** The page in the layout, with the drawer of this click's protocol. */
function webmailPage(s: Student, o: { title: string; body: Child; status?: 200 | 400 | 403 | 404 | 413 | 502 | 503; notice?: { kind: 'info' | 'error'; text: string } }) {
  const records = rememberClick(s.session, s.logs);
  return page(s.c, {
    title: o.title,
    nav: 'webmail',
    lab: s.lab.n,
    assets: ['webmail.css', 'webmail.js'],
    notice: o.notice,
    status: o.status,
    body: (
      <div class="webmail-page">
        {o.body}
        <ProtocolDrawer lab={s.lab.n} records={records} t={s.t} />
      </div>
    ),
  });
}

/** After a POST: the result as the next page's notice, its protocol in that page's drawer, 303 there. */
function done(s: Student, to: string, kind: 'info' | 'error', text: string) {
  flash(s, kind, text);
  carryToNextPage(s.session, s.logs);
  return s.c.redirect(to, 303);
}

// ---------------------------------------------------------------------------
// reading

const addressList = (a: AddressObject | AddressObject[] | undefined): Address[] =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => ({ name: v.name ?? '', address: v.address ?? '' })));

/** The attachments shown (an HTML mail's inline images are part of its HTML). */
function listedAttachments(parsed: ParsedMail) {
  return parsed.attachments
    .map((a, index) => ({ a, index }))
    .filter(({ a }) => !(parsed.html && a.related && a.contentId && /^image\//i.test(a.contentType)))
    .map(({ a, index }) => ({ index, filename: safeFilename(a.filename, `attachment-${index + 1}`), contentType: safeContentType(a.contentType), size: a.size ?? a.content.length }));
}

function readerOf(parsed: ParsedMail, source: Buffer, o: { folder: string; uid: number; page: number; q?: string; view: 'text' | 'html'; lang: string; t: T }): ReaderData {
  const headerEnd = source.indexOf('\r\n\r\n');
  const headers = source.subarray(0, headerEnd < 0 ? source.length : headerEnd).toString('utf8');
  const received = parsed.headerLines.filter((h) => h.key === 'received').map((h) => h.line.replace(/^received:\s*/i, ''));
  let frame: string | undefined;
  let removed: ReaderData['removed'];
  const hasHtml = typeof parsed.html === 'string' && parsed.html.trim() !== '';
  if (hasHtml && o.view === 'html') {
    const cid = new Map<string, string>();
    for (const a of parsed.attachments) {
      if (a.contentId && /^image\/(png|gif|jpe?g|webp|bmp)$/i.test(a.contentType) && a.content.length <= INLINE_IMAGE_MAX) {
        cid.set(a.contentId.replace(/^<|>$/g, ''), `data:${a.contentType.toLowerCase()};base64,${a.content.toString('base64')}`);
      }
    }
    const clean = sanitizeHtml(parsed.html as string, { cid, remoteImage: o.t('webmail.remoteImage') });
    frame = frameDocument(clean.html, o.lang);
    removed = clean.removed;
  }
  return {
    folder: o.folder,
    uid: o.uid,
    page: o.page,
    q: o.q,
    subject: parsed.subject ?? '',
    from: addressList(parsed.from),
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    replyTo: addressList(parsed.replyTo),
    date: parsed.date,
    messageId: parsed.messageId,
    text: (parsed.text ?? '').replace(/\r\n/g, '\n').replace(/\n+$/, ''),
    frame,
    hasHtml,
    view: hasHtml && o.view === 'html' ? 'html' : 'text',
    removed,
    attachments: listedAttachments(parsed),
    hops: receivedChain(received),
    headers,
  };
}

async function webmailMain(c: WebContext): Promise<Response> {
  const s = student(c);
  const t = s.t;
  const asked = folderParam(c.req.query('folder'));
  const q = str(c.req.query('q'), 200).trim() || undefined;
  const pageNo = Math.max(1, Number(c.req.query('page')) || 1);
  const uid = uidOf(c.req.query('uid'));
  const view = c.req.query('view') === 'html' ? 'html' : 'text';
  let notice = takeFlash(s.session);
  const label = uid ? t('proto.label.read', { uid, folder: asked }) : q ? t('proto.label.search', { q, folder: asked }) : t('proto.label.page', { folder: folderLabel(asked, t) });
  let shown: { folder: string; folders: Folder[]; list: MessagePage; reader: ReaderData | null };
  try {
    shown = await withImap(s, label, async (imap) => {
      const folders = await listFolders(imap);
      let folder = asked;
      if (!folders.some((f) => f.path === folder && f.selectable)) {
        notice = { kind: 'error', text: t('webmail.noFolder', { folder }) };
        folder = 'INBOX';
      }
      let reader: ReaderData | null = null;
      if (uid) {
        const got = await fetchMessage(imap, folder, uid, true);
        if (got) {
          reader = readerOf(await simpleParser(got.source), got.source, { folder, uid, page: pageNo, q, view, lang: c.var.lang, t });
          // STATUS was asked before this message was marked read.
          const f = folders.find((x) => x.path === folder);
          if (got.wasUnseen && f && f.unseen > 0) f.unseen--;
        } else notice = { kind: 'error', text: t('webmail.gone', { folder: folderLabel(folder, t) }) };
      }
      return { folder, folders, reader, list: await listMessages(imap, folder, pageNo, q) };
    });
  } catch (e) {
    return webmailPage(s, { title: t('webmail.title'), status: 502, notice: { kind: 'error', text: failureText(e, t) }, body: <p><a href={webmailUrl(s.lab.n)}>{folderLabel('INBOX', t)}</a></p> });
  }
  const { folder, folders, list, reader: m } = shown;
  const isTrash = specialFolder(folders, '\\Trash') === folder;
  return webmailPage(s, {
    title: m ? m.subject || t('webmail.noSubject') : `${folderLabel(folder, t)} · ${t('webmail.title')}`,
    notice,
    body: (
      <div class={`webmail${m ? ' reading' : ''}`} data-folder={folder}>
        <FolderList c={c} lab={s.lab.n} folders={folders} current={folder} t={t} />
        <MessageList c={c} lab={s.lab.n} list={list} selected={uid} isTrash={isTrash} t={t} />
        {m ? <Reader c={c} lab={s.lab.n} m={m} folders={folders} isTrash={isTrash} instructor={s.session.role === 'instructor'} t={t} /> : <p class="wm-reader muted pick">{t('webmail.pick')}</p>}
      </div>
    ),
  });
}

// ---------------------------------------------------------------------------
// compose and send

async function composePage(c: WebContext): Promise<Response> {
  const s = student(c);
  const t = s.t;
  const domain = s.lab.config.domains.find((d) => d.name === s.session.domain)!;
  const draft = takeDraft(c);
  const mode = (['reply', 'replyall', 'forward'] as const).find((m) => m === (draft ? str(draft.mode) : c.req.query('mode'))) ?? 'new';
  const folder = draft ? str(draft.folder) || undefined : c.req.query('folder') ? folderParam(c.req.query('folder')) : undefined;
  const uid = uidOf(draft ? draft.uid : c.req.query('uid'));
  let d: ComposeData = { mode, to: '', cc: '', subject: '', body: '', folder, uid };
  let notice: { kind: 'info' | 'error'; text: string } | undefined = takeFlash(s.session);
  if (mode !== 'new' && folder && uid && !draft) {
    try {
      const original = await withImap(s, t('proto.label.compose'), (imap) => fetchMessage(imap, folder, uid, false));
      if (original) d = replyDraft(await simpleParser(original.source), mode, s, c.var.lang, t, folder, uid);
      else notice = { kind: 'error', text: t('webmail.gone', { folder: folderLabel(folder, t) }) };
    } catch (e) {
      notice = { kind: 'error', text: failureText(e, t) };
    }
  }
  if (draft) {
    d = { ...d, to: str(draft.to), cc: str(draft.cc), subject: str(draft.subject, 900), body: str(draft.body, 1_000_000), inReplyTo: str(draft.inReplyTo) || undefined, references: str(draft.references) || undefined, draftRestored: true };
  }
  return webmailPage(s, {
    title: t('compose.title'),
    notice,
    body: <ComposeForm c={c} lab={s.lab.n} from={`${s.session.name} <${s.session.user}>`} submissionPort={domain.ports.submission} limit={s.lab.config.limits.maxMessageSize} d={d} t={t} />,
  });
}

function replyDraft(p: ParsedMail, mode: 'reply' | 'replyall' | 'forward', s: Student, lang: Lang, t: T, folder: string, uid: number): ComposeData {
  const from = addressList(p.from);
  const text = (p.text ?? '').replace(/\r\n/g, '\n');
  const me = s.session.user.toLowerCase();
  if (mode === 'forward') {
    const head = [
      t('compose.forwardHead'),
      `${t('webmail.col.from')}: ${from.map(fullAddress).join(', ')}`,
      `${t('webmail.col.date')}: ${longDate(p.date, lang)}`,
      `${t('webmail.col.subject')}: ${p.subject ?? ''}`,
      `${t('webmail.col.to')}: ${addressList(p.to).map(fullAddress).join(', ')}`,
    ].join('\n');
    return { mode, to: '', cc: '', subject: forwardSubject(p.subject ?? ''), body: `\n\n${head}\n\n${text}`, folder, uid, forwardedFiles: listedAttachments(p).map((a) => a.filename) };
  }
  const replyTo = addressList(p.replyTo);
  const to = (replyTo.length ? replyTo : from).filter((a) => a.address);
  let cc: Address[] = [];
  if (mode === 'replyall') {
    const seen = new Set([me, ...to.map((a) => a.address.toLowerCase())]);
    const others = [...addressList(p.to), ...addressList(p.cc)].filter((a) => a.address && !seen.has(a.address.toLowerCase()) && (seen.add(a.address.toLowerCase()), true));
    cc = others;
  }
  const refs = [...(Array.isArray(p.references) ? p.references : p.references ? [p.references] : []), ...(p.messageId ? [p.messageId] : [])];
  const who = from[0] ? fullAddress(from[0]) : '?';
  return {
    mode,
    to: to.map(fullAddress).join(', '),
    cc: cc.map(fullAddress).join(', '),
    subject: replySubject(p.subject ?? ''),
    body: quote(text, t('compose.wrote', { date: longDate(p.date, lang), who })),
    inReplyTo: p.messageId,
    references: refs.join(' ') || undefined,
    folder,
    uid,
  };
}

async function sendMessage(c: WebContext): Promise<Response> {
  const s = student(c);
  const t = s.t;
  const lang = c.var.lang;
  const limit = s.lab.config.limits.maxMessageSize;
  const form = await c.req.parseBody({ all: true });
  const mode = (['reply', 'replyall', 'forward'] as const).find((m) => m === str(form.mode)) ?? 'new';
  const folder = str(form.folder) ? folderParam(form.folder) : undefined;
  const uid = uidOf(form.uid);
  const d: ComposeData = { mode, to: str(form.to), cc: str(form.cc), subject: str(form.subject, 900), body: str(form.body, 10_000_000), inReplyTo: str(form.inReplyTo, 998) || undefined, references: str(form.references, 8000) || undefined, folder, uid };
  const domain = s.lab.config.domains.find((x) => x.name === s.session.domain)!;
  const again = (status: 400 | 413 | 502 | 503, text: string) =>
    webmailPage(s, {
      title: t('compose.title'),
      status: isNavigation(c) ? 200 : status,
      notice: { kind: 'error', text },
      body: <ComposeForm c={c} lab={s.lab.n} from={`${s.session.name} <${s.session.user}>`} submissionPort={domain.ports.submission} limit={limit} d={d} t={t} />,
    });
  const files = ([] as unknown[]).concat(form.attachment ?? []).filter((f): f is File => typeof f === 'object' && f !== null && 'arrayBuffer' in f && ((f as File).size > 0 || (f as File).name !== ''));
  const tooBig = (size: number) => t('compose.tooBig', { size: sizeInWords(size, lang), limit: sizeInWords(limit, lang), bytes: limit });
  const declared = files.reduce((n, f) => n + f.size, 0);
  if (declared > limit) return again(413, tooBig(declared));
  const uploads: Upload[] = [];
  for (const f of files) uploads.push({ filename: f.name, contentType: f.type, content: Buffer.from(await f.arrayBuffer()) });
  try {
    if (mode === 'forward' && folder && uid) {
      const original = await withImap(s, t('proto.label.forward'), (imap) => fetchMessage(imap, folder, uid, false));
      if (original) {
        const p = await simpleParser(original.source);
        for (const a of listedAttachments(p)) {
          const part = p.attachments[a.index];
          uploads.push({ filename: a.filename, contentType: a.contentType, content: part.content });
        }
      }
    }
  } catch (e) {
    return again(502, failureText(e, t));
  }
  let built;
  try {
    built = await buildMessage({ from: { name: s.session.name === s.session.user ? '' : s.session.name, address: s.session.user }, draft: d, uploads, maxMessageSize: limit });
  } catch (e) {
    if (!(e instanceof ComposeError)) throw e;
    if (e.key === 'compose.tooBig') return again(413, tooBig(Number(e.params.size)));
    if (e.key === 'compose.tooBigEncoded') return again(413, t('compose.tooBigEncoded', { size: sizeInWords(Number(e.params.size), lang), limit: sizeInWords(limit, lang), bytes: limit }));
    return again(400, t(e.key, e.params));
  }
  const smtp = new ProtocolLog(t('proto.label.send'), [s.session.password], s.session.user);
  s.logs.push(smtp);
  const transport = studentSubmission(s.lab, s.session, { logger: smtp.smtpLogger() });
  try {
    await transport.sendMail({ envelope: built.envelope, raw: built.raw });
  } catch (e) {
    const x = e as { response?: string; code?: string; message?: string };
    c.var.deps.logger.warn('webmail send refused', { user: s.session.user, lab: s.lab.n, error: x.response ?? x.message });
    if (x.code === 'ECONNECTION' || x.code === 'ETIMEDOUT' || x.code === 'ESOCKET') return again(503, t('webmail.unreachable', { detail: x.code }));
    return again(502, t('compose.refused', { reply: x.response ?? x.message ?? String(e) }));
  } finally {
    transport.close();
  }
  c.var.deps.logger.info('webmail sent', { user: s.session.user, lab: s.lab.n, messageId: built.messageId, size: built.raw.length });
  const to = built.envelope.to.join(', ');
  let kept: string;
  try {
    kept = await withImap(s, t('proto.label.keep'), async (imap) => {
      const sent = specialFolder(await listFolders(imap), '\\Sent');
      const where = await keepSent(imap, sent, built.raw);
      if ((mode === 'reply' || mode === 'replyall') && folder && uid) {
        await imap.mailboxOpen(folder);
        await imap.messageFlagsAdd(String(uid), ['\\Answered'], { uid: true });
      }
      return where;
    });
  } catch (e) {
    return done(s, webmailUrl(s.lab.n, { folder }), 'error', t('webmail.sentNoCopy', { to, detail: failureText(e, t) }));
  }
  return done(s, webmailUrl(s.lab.n, { folder }), 'info', t('webmail.sent', { to, folder: folderLabel(kept, t) }));
}

// ---------------------------------------------------------------------------
// moving, deleting, folders

async function messageAction(c: WebContext): Promise<Response> {
  const s = student(c);
  const t = s.t;
  const form = await c.req.parseBody({ all: true });
  const folder = folderParam(form.folder);
  const uid = uidOf(form.uid);
  const op = str(form.op);
  const back = webmailUrl(s.lab.n, { folder, page: Number(str(form.page)) || 1 });
  if (!uid || (op !== 'move' && op !== 'delete')) return done(s, back, 'error', t('webmail.badRequest', { what: !uid ? 'uid' : 'op' }));
  try {
    if (op === 'move') {
      const to = folderParam(form.to);
      const moved = await withImap(s, t('proto.label.move', { uid }), (imap) => moveMessage(imap, folder, uid, to));
      return done(s, back, moved ? 'info' : 'error', moved ? t('webmail.moved', { folder: folderLabel(to, t) }) : t('webmail.gone', { folder: folderLabel(folder, t) }));
    }
    const result = await withImap(s, t('proto.label.delete', { uid }), async (imap) => deleteMessage(imap, folder, uid, specialFolder(await listFolders(imap), '\\Trash')));
    return done(s, back, 'info', t(result === 'trash' ? 'webmail.deletedToTrash' : 'webmail.deletedForGood'));
  } catch (e) {
    return done(s, back, 'error', failureText(e, t));
  }
}

async function emptyTrash(c: WebContext): Promise<Response> {
  const s = student(c);
  const t = s.t;
  let trash = 'Trash';
  try {
    const n = await withImap(s, t('proto.label.empty'), async (imap) => {
      trash = specialFolder(await listFolders(imap), '\\Trash') ?? 'Trash';
      return emptyFolder(imap, trash);
    });
    return done(s, webmailUrl(s.lab.n, { folder: trash }), 'info', t('webmail.emptied', { n }));
  } catch (e) {
    return done(s, webmailUrl(s.lab.n, { folder: trash }), 'error', failureText(e, t));
  }
}

async function folderAction(c: WebContext): Promise<Response> {
  const s = student(c);
  const t = s.t;
  const form = await c.req.parseBody({ all: true });
  const op = str(form.op);
  const name = str(form.name, 300);
  const home = webmailUrl(s.lab.n);
  if (op !== 'create' && op !== 'rename' && op !== 'delete') return done(s, home, 'error', t('webmail.badRequest', { what: 'op' }));
  let clean: string;
  let to = '';
  try {
    if (op === 'create') clean = checkFolderName(name);
    else {
      clean = name;
      if (SPECIAL_FOLDERS.has(clean) || clean.toUpperCase() === 'INBOX') return done(s, home, 'error', t('webmail.specialFolder', { folder: folderLabel(clean, t) }));
      if (op === 'rename') to = checkFolderName(str(form.to, 300));
    }
  } catch (e) {
    if (e instanceof FolderNameError) return done(s, home, 'error', t('webmail.badFolderName', { name: e.message || str(form.to, 300) || name }));
    throw e;
  }
  try {
    await withImap(s, t('proto.label.folder', { op: op.toUpperCase(), name: clean }), async (imap) => {
      if (op === 'create') {
        // imapflow takes the server's [ALREADYEXISTS] as done: say it.
        if (!(await imap.mailboxCreate(clean)).created) throw Object.assign(new Error('exists'), { responseText: t('webmail.folderExists', { folder: clean }) });
      }
      else if (op === 'rename') await imap.mailboxRename(clean, to);
      else await imap.mailboxDelete(clean);
    });
  } catch (e) {
    return done(s, home, 'error', failureText(e, t));
  }
  if (op === 'create') return done(s, webmailUrl(s.lab.n, { folder: clean }), 'info', t('webmail.folderCreated', { folder: clean }));
  if (op === 'rename') return done(s, webmailUrl(s.lab.n, { folder: to }), 'info', t('webmail.folderRenamed', { from: clean, to }));
  return done(s, home, 'info', t('webmail.folderDeleted', { folder: clean }));
}

// ---------------------------------------------------------------------------
// attachments and source

async function attachment(c: WebContext): Promise<Response> {
  const s = student(c);
  const t = s.t;
  const folder = folderParam(c.req.query('folder'));
  const uid = uidOf(c.req.query('uid'));
  const part = Number(c.req.query('part'));
  if (!uid || !Number.isInteger(part) || part < 0) return webmailPage(s, { title: t('webmail.title'), status: 400, notice: { kind: 'error', text: t('webmail.badRequest', { what: 'uid, part' }) }, body: null });
  let got;
  try {
    got = await withImap(s, t('proto.label.download', { uid }), (imap) => fetchMessage(imap, folder, uid, false));
  } catch (e) {
    return webmailPage(s, { title: t('webmail.title'), status: 502, notice: { kind: 'error', text: failureText(e, t) }, body: null });
  }
  const a = got ? (await simpleParser(got.source)).attachments[part] : undefined;
  rememberClick(s.session, s.logs);
  if (!a) return webmailPage(s, { title: t('webmail.title'), status: 404, notice: { kind: 'error', text: t('webmail.noAttachment') }, body: null });
  return c.body(new Uint8Array(a.content), 200, {
    'content-type': safeContentType(a.contentType),
    'content-disposition': contentDisposition(a.filename ?? `attachment-${part + 1}`),
    'content-length': String(a.content.length),
  });
}

async function source(c: WebContext): Promise<Response> {
  const s = student(c);
  const t = s.t;
  const lang = c.var.lang;
  const folder = folderParam(c.req.query('folder'));
  const uid = uidOf(c.req.query('uid'));
  if (!uid) return webmailPage(s, { title: t('webmail.title'), status: 400, notice: { kind: 'error', text: t('webmail.badRequest', { what: 'uid' }) }, body: null });
  let got;
  try {
    got = await withImap(s, t('proto.label.source', { uid }), (imap) => fetchMessage(imap, folder, uid, false));
  } catch (e) {
    return webmailPage(s, { title: t('webmail.title'), status: 502, notice: { kind: 'error', text: failureText(e, t) }, body: null });
  }
  if (!got) return webmailPage(s, { title: t('webmail.title'), status: 404, notice: { kind: 'error', text: t('webmail.gone', { folder: folderLabel(folder, t) }) }, body: null });
  if (c.req.query('download')) {
    rememberClick(s.session, s.logs);
    return c.body(new Uint8Array(got.source), 200, { 'content-type': 'text/plain; charset=utf-8', 'content-disposition': contentDisposition(`message-${uid}.eml`) });
  }
  const subject = (await simpleParser(got.source, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true })).subject ?? '';
  const shown = got.source.subarray(0, SOURCE_SHOWN).toString('utf8');
  const qs = new URLSearchParams({ folder, uid: String(uid) }).toString();
  return webmailPage(s, {
    title: t('webmail.sourceTitle', { subject }),
    body: (
      <section class="wm-source">
        <p>
          <a href={webmailUrl(s.lab.n, { folder, uid })}>{t('webmail.back')}</a>
        </p>
        <h1>{t('webmail.sourceTitle', { subject })}</h1>
        <p>
          {t('webmail.sourceIntro', { size: sizeInWords(got.source.length, lang) })} {got.source.length > SOURCE_SHOWN && t('webmail.sourceCut', { shown: sizeInWords(SOURCE_SHOWN, lang) })}{' '}
          <a href={`/lab/${s.lab.n}/webmail/source?${qs}&download=1`}>{t('webmail.sourceDownload')}</a>
        </p>
        <pre class="source">{shown}</pre>
      </section>
    ),
  });
}

// ---------------------------------------------------------------------------

export function registerWebmailPages(app: WebApp): void {
  const guards = [requireStudent, requireLab] as const;
  app.get('/lab/:n/webmail', ...guards, webmailMain);
  app.get('/lab/:n/webmail/compose', ...guards, composePage);
  app.post('/lab/:n/webmail/send', ...guards, sendMessage);
  app.post('/lab/:n/webmail/message', ...guards, messageAction);
  app.post('/lab/:n/webmail/empty-trash', ...guards, emptyTrash);
  app.post('/lab/:n/webmail/folders', ...guards, folderAction);
  app.get('/lab/:n/webmail/attachment', ...guards, attachment);
  app.get('/lab/:n/webmail/source', ...guards, source);
  app.get('/lab/:n/webmail/protocol', ...guards, (c) => c.html(<ProtocolLines records={lastClick(currentSession(c))} t={c.var.t} />));
}
