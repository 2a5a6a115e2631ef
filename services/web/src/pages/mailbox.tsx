/**
 * The Mailbox file page: an account's INBOX exactly as `cat` shows it (the
 * mail domain's `GET /mailbox/:user`), line by line with the `From `
 * separator lines marked. Live: when the account's mailbox changes
 * (mailbox.append, mailbox.expunge), mailbox.js reloads the file and shows
 * the difference: appended lines highlighted, removed lines struck out and
 * collapsing (the file shrinking after a POP3 download), and the size
 * before and after. The instructor sees every account; a student only
 * their own (their "My lab" links here).
 *
 *   GET /lab/:n/mailbox                    the accounts of the lab (instructor)
 *   GET /lab/:n/mailbox/:account           the file (user@domain, or a student's own local part)
 *   GET /lab/:n/mailbox/:account/file      the file (htmx fragment)
 */
import { every } from 'hono/combine';
import { MAIL_API, type MailboxFile } from '../../../core/src/admin/api';
import { requireAccount, requireInstructor, requireLab, requireLogin } from '../auth/middleware';
import { currentLab, type WebApp, type WebContext } from '../context';
import { errorPage } from '../error-page';
import { addMessages } from '../i18n';
import { page } from '../layout';
import type { WebLab } from '../labs';
import { liveTrigger, liveUrl } from '../live/tabs';
import { bytes, grouped, type T } from './lab-format';

addMessages({
  'mailbox.title': { en: 'Mailbox file of {account}', id: 'Berkas mailbox {account}' },
  'mailbox.choose': { en: 'Mailbox files of lab {n}', id: 'Berkas mailbox lab {n}' },
  'mailbox.chooseText': { en: "Each account's INBOX is one plain-text file (mbox): pick an account.", id: 'INBOX setiap akun adalah satu berkas teks biasa (mbox): pilih sebuah akun.' },
  'mailbox.account': { en: 'Account', id: 'Akun' },
  'mailbox.open': { en: 'Open', id: 'Buka' },
  'mailbox.path': { en: 'File', id: 'Berkas' },
  'mailbox.size': { en: 'Size', id: 'Ukuran' },
  'mailbox.messages': { en: 'Messages', id: 'Pesan' },
  'mailbox.lines': { en: 'Lines', id: 'Baris' },
  'mailbox.cat': { en: 'as `cat {path}` shows it', id: 'seperti yang ditampilkan `cat {path}`' },
  'mailbox.empty': { en: '(the file is empty: no message in the INBOX)', id: '(berkasnya kosong: tidak ada pesan di INBOX)' },
  'mailbox.cut': { en: 'The file is {size}: only its last {shown} are shown.', id: 'Berkasnya {size}: hanya {shown} terakhir yang ditampilkan.' },
  'mailbox.unknown': { en: 'No account {account} in lab {n}.', id: 'Tidak ada akun {account} di lab {n}.' },
  'mailbox.failed': { en: '{domain} does not answer: {error}', id: '{domain} tidak menjawab: {error}' },
  'mailbox.legend': { en: 'Highlighted: lines just appended. Struck out: lines just removed.', id: 'Disorot: baris yang baru ditambahkan. Dicoret: baris yang baru dihapus.' },
  'mailbox.grew': { en: 'The file grew from {before} to {after} bytes (+{diff}): new lines appended at the end.', id: 'Berkas bertambah dari {before} menjadi {after} byte (+{diff}): baris baru ditambahkan di akhir.' },
  'mailbox.shrank': { en: 'The file shrank from {before} to {after} bytes (−{diff}): messages removed{how}.', id: 'Berkas menyusut dari {before} menjadi {after} byte (−{diff}): pesan dihapus{how}.' },
  'mailbox.shrankHow': { en: ' after a {protocol} download', id: ' setelah diunduh lewat {protocol}' },
  'mailbox.changed': { en: 'The file changed: {before} → {after} bytes.', id: 'Berkas berubah: {before} → {after} byte.' },
});

/** At most this much of a file is sent to the browser (its end: where new mail goes). */
const MAX_SHOWN = 256 * 1024;

/** `user@domain`, or a local part (a student's own domain; the instructor: the first domain that has it). */
function parseAccount(c: WebContext, lab: WebLab): { user: string; domain: string } | null {
  const raw = decodeURIComponent(c.req.param('account') ?? '').toLowerCase();
  const at = raw.lastIndexOf('@');
  const user = at < 0 ? raw : raw.slice(0, at);
  if (!/^[a-z0-9._+-]{1,64}$/.test(user)) return null;
  let domain = at < 0 ? undefined : raw.slice(at + 1);
  if (!domain) {
    const s = c.var.session;
    domain = s?.role === 'student' ? s.domain : lab.config.domains.find((d) => d.accounts.some((a) => a.user === user))?.name;
  }
  if (!domain || !lab.config.domains.some((d) => d.name === domain)) return null;
  return { user, domain };
}

/** The file's lines for the page, each with its LF (so the text is exactly the file's); `From ` separators marked. */
function MboxText(props: { file: MailboxFile; t: T }) {
  const { file, t } = props;
  const text = file.text.length > MAX_SHOWN ? file.text.slice(file.text.indexOf('\n', file.text.length - MAX_SHOWN) + 1) : file.text;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const messages = (file.text.match(/(^|\n\n)From /g) ?? []).length;
  const total = file.text === '' ? 0 : file.text.split('\n').length - (file.text.endsWith('\n') ? 1 : 0);
  return (
    <div class="mbox-file" data-size={String(file.text.length)} data-messages={String(messages)} data-lines={String(total)} data-shown-from={String(file.text.length - text.length)}>
      <dl class="mbox-facts">
        <div class="cat">
          <dt class="prompt">$</dt>
          <dd>
            <code>cat {file.path}</code>
          </dd>
        </div>
        <div>
          <dt>{t('mailbox.size')}</dt>
          <dd class="size">{bytes(file.text.length, t)}</dd>
        </div>
        <div>
          <dt>{t('mailbox.messages')}</dt>
          <dd class="count">{grouped(messages)}</dd>
        </div>
        <div>
          <dt>{t('mailbox.lines')}</dt>
          <dd class="lines">{grouped(total)}</dd>
        </div>
      </dl>
      {text.length < file.text.length && <p class="notice info">{t('mailbox.cut', { size: bytes(file.text.length, t), shown: bytes(text.length, t) })}</p>}
      {lines.length ? (
        <pre class="mbox" id="mbox-text" aria-label={t('mailbox.cat', { path: file.path })}>
          {lines.map((l, i) => (
            <span class={/^From /.test(l) && (i === 0 || lines[i - 1] === '') ? 'ln sep' : 'ln'}>{`${l}\n`}</span>
          ))}
        </pre>
      ) : (
        <pre class="mbox empty" id="mbox-text" aria-label={t('mailbox.cat', { path: file.path })}></pre>
      )}
      {!lines.length && <p class="mbox-empty">{t('mailbox.empty')}</p>}
    </div>
  );
}

async function readFile(c: WebContext, lab: WebLab, acc: { user: string; domain: string }): Promise<{ file: MailboxFile } | { response: Response }> {
  try {
    return { file: await lab.mail(acc.domain).call(MAIL_API.mailbox, { user: acc.user }) };
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (status === 404) return { response: await errorPage(c, 404, 'mailbox.unknown', { account: `${acc.user}@${acc.domain}`, n: lab.n }) };
    return { response: await errorPage(c, 502, 'mailbox.failed', { domain: acc.domain, error: (e as Error).message.split('\n')[0] }) };
  }
}

const guards = every(requireLogin, requireLab, requireAccount('account'));

export function registerMailboxPages(app: WebApp): void {
  app.get('/lab/:n/mailbox', requireInstructor, requireLab, (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    // The account chooser of a file's page (a GET form).
    const chosen = c.req.query('account');
    if (chosen && /^[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(chosen)) return c.redirect(`/lab/${lab.n}/mailbox/${encodeURIComponent(chosen)}`, 302);
    return page(c, {
      title: t('mailbox.choose', { n: lab.n }),
      nav: 'mailbox',
      lab: lab.n,
      assets: ['mailbox.css'],
      body: (
        <section class="mailbox-choose">
          <h1>{t('mailbox.choose', { n: lab.n })}</h1>
          <p>{t('mailbox.chooseText')}</p>
          <div class="mbox-domains">
            {lab.config.domains.map((d) => (
              <div class="mbox-domain" data-domain={d.name}>
                <h2>{d.name}</h2>
                <ul>
                  {d.accounts.map((a) => (
                    <li>
                      <a href={`/lab/${lab.n}/mailbox/${encodeURIComponent(`${a.user}@${d.name}`)}`}>
                        {a.user}@{d.name}
                      </a>{' '}
                      <span class="name">{a.name}</span>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </div>
        </section>
      ),
    });
  });

  app.get('/lab/:n/mailbox/:account', guards, async (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    const acc = parseAccount(c, lab);
    if (!acc) return errorPage(c, 404, 'mailbox.unknown', { account: c.req.param('account'), n: lab.n });
    const r = await readFile(c, lab, acc);
    if ('response' in r) return r.response;
    const account = `${acc.user}@${acc.domain}`;
    const instructor = c.var.session?.role === 'instructor';
    const others = instructor ? lab.config.domains.flatMap((d) => d.accounts.map((a) => `${a.user}@${d.name}`)) : [];
    return page(c, {
      title: t('mailbox.title', { account }),
      nav: instructor ? 'mailbox' : 'mylab',
      lab: lab.n,
      assets: ['mailbox.css', 'mailbox.js'],
      body: (
        <div
          class="mailbox-page"
          sse-connect={liveUrl({ labs: [lab.n], types: ['mailbox', 'trace.retrieved'], sources: [acc.domain] })}
          data-user={acc.user}
          data-domain={acc.domain}
          data-msg-grew={t('mailbox.grew', { before: '{before}', after: '{after}', diff: '{diff}' })}
          data-msg-shrank={t('mailbox.shrank', { before: '{before}', after: '{after}', diff: '{diff}', how: '{how}' })}
          data-msg-how={t('mailbox.shrankHow', { protocol: '{protocol}' })}
          data-msg-changed={t('mailbox.changed', { before: '{before}', after: '{after}' })}
        >
          <div class="page-head">
            <h1>{t('mailbox.title', { account })}</h1>
            {others.length > 1 && (
              <form method="get" action={`/lab/${lab.n}/mailbox`} class="mbox-pick">
                <label>
                  {t('mailbox.account')}{' '}
                  <select name="account">
                    {others.map((a) => (
                      <option value={a} selected={a === account}>
                        {a}
                      </option>
                    ))}
                  </select>
                </label>
                <button type="submit">{t('mailbox.open')}</button>
              </form>
            )}
          </div>
          <p class="mbox-change" id="mbox-change" role="status" aria-live="polite" hidden></p>
          <p class="mbox-legend">{t('mailbox.legend')}</p>
          <div id="mbox" hx-get={`/lab/${lab.n}/mailbox/${encodeURIComponent(account)}/file`} hx-trigger={liveTrigger('every 60s')} hx-swap="innerHTML">
            <MboxText file={r.file} t={t} />
          </div>
        </div>
      ),
    });
  });

  app.get('/lab/:n/mailbox/:account/file', guards, async (c) => {
    const lab = currentLab(c);
    const acc = parseAccount(c, lab);
    if (!acc) return errorPage(c, 404, 'mailbox.unknown', { account: c.req.param('account'), n: lab.n });
    const r = await readFile(c, lab, acc);
    if ('response' in r) return r.response;
    return c.html(<MboxText file={r.file} t={c.var.t} />);
  });
}
