/**
 * My lab (`/lab/N/`): what a student needs to work in their lab from their
 * own computer: the lab number and its ports on this computer (lab N of
 * the lab definition, from the WebLab config), the accounts, the lab CA
 * certificate to download (`GET /ca` of a mail domain's admin API, through
 * this server), the worksheets (docs/guide/en|id, shown read-only) and
 * their own mailbox file (the INBOX as `cat` shows it: the admin API's
 * `GET /mailbox/:user`, only their own account). The instructor sees the
 * same page of any lab (without a mailbox of their own).
 *
 *   GET /lab/:n/                  the page
 *   GET /lab/:n/ca.crt            the lab CA certificate (PEM, as a file)
 *   GET /lab/:n/guide             the worksheets
 *   GET /lab/:n/guide/:name       one worksheet in the page's language
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIL_API, type LabCaCertificate } from '../../../core/src/admin/api';
import { AdminCallError } from '../../../core/src/admin/client';
import { requireLab, requireLogin } from '../auth/middleware';
import { currentLab, currentSession, type WebApp, type WebContext } from '../context';
import { errorPage } from '../error-page';
import { addMessages, type Lang } from '../i18n';
import { page } from '../layout';
import type { WebLab } from '../labs';
import { sizeInWords } from '../webmail/files';
import { Markdown, markdownTitle } from '../webmail/markdown';
import type { T } from './webmail-views';

addMessages({
  'mylab.title': { en: 'My lab: lab {n}', id: 'Lab saya: lab {n}' },
  'mylab.student': { en: 'Student: {name}', id: 'Siswa: {name}' },
  'mylab.you': { en: 'You are logged in as {name} <{address}>.', id: 'Anda masuk sebagai {name} <{address}>.' },
  'mylab.instructor': { en: 'You are the instructor: this is the page the student of lab {n} sees (without a mailbox of your own).', id: 'Anda adalah guru: ini halaman yang dilihat siswa lab {n} (tanpa mailbox milik Anda sendiri).' },
  'mylab.open': { en: 'Open the Webmail', id: 'Buka Webmail' },
  'mylab.ports': { en: 'Ports on this computer', id: 'Port di komputer ini' },
  'mylab.portsIntro': {
    en: 'Your lab runs on {host}. Every port of lab {n} is the port of lab 0 plus {plus}. Connect your mail program or telnet to these:',
    id: 'Lab Anda berjalan di {host}. Setiap port lab {n} adalah port lab 0 ditambah {plus}. Hubungkan program e-mail atau telnet ke port berikut:',
  },
  'mylab.service': { en: 'Service', id: 'Layanan' },
  'mylab.smtp': { en: 'SMTP (25): mail from anywhere', id: 'SMTP (25): surat dari mana saja' },
  'mylab.submission': { en: 'Submission (587): sending, with your login', id: 'Submission (587): mengirim, dengan login' },
  'mylab.pop3': { en: 'POP3 (110)', id: 'POP3 (110)' },
  'mylab.imap': { en: 'IMAP (143)', id: 'IMAP (143)' },
  'mylab.smtps': { en: 'Submission over TLS (465)', id: 'Submission lewat TLS (465)' },
  'mylab.imaps': { en: 'IMAPS (993)', id: 'IMAPS (993)' },
  'mylab.pop3s': { en: 'POP3S (995)', id: 'POP3S (995)' },
  'mylab.dns': { en: 'Lab DNS (53, UDP and TCP): port {port}', id: 'DNS lab (53, UDP dan TCP): port {port}' },
  'mylab.try': { en: 'Try it:', id: 'Cobalah:' },
  'mylab.accounts': { en: 'Accounts', id: 'Akun' },
  'mylab.accountsIntro': { en: 'The accounts of your lab; the password is the one on your card.', id: 'Akun-akun di lab Anda; kata sandinya ada di kartu Anda.' },
  'mylab.address': { en: 'Address', id: 'Alamat' },
  'mylab.name': { en: 'Name', id: 'Nama' },
  'mylab.yours': { en: '(you)', id: '(Anda)' },
  'mylab.generated': { en: '{first} … {last}: {count} student accounts, each with its own password', id: '{first} … {last}: {count} akun siswa, masing-masing dengan kata sandi sendiri' },
  'mylab.aliases': { en: 'Aliases: {list}', id: 'Alias: {list}' },
  'mylab.ca': { en: 'The lab CA certificate', id: 'Sertifikat CA lab' },
  'mylab.caText': {
    en: 'The mail servers of your lab have certificates from the lab’s own CA. Trust it once in your mail program to use STARTTLS and the TLS ports without warnings.',
    id: 'Server e-mail lab Anda memakai sertifikat dari CA milik lab sendiri. Percayai sekali di program e-mail Anda agar STARTTLS dan port TLS bisa dipakai tanpa peringatan.',
  },
  'mylab.caDownload': { en: 'Download mail-lab-ca.crt', id: 'Unduh mail-lab-ca.crt' },
  'mylab.caFingerprint': { en: 'SHA-256 fingerprint: {fp}', id: 'Sidik jari SHA-256: {fp}' },
  'mylab.caValid': { en: 'Valid until {date}.', id: 'Berlaku sampai {date}.' },
  'mylab.caThunderbird': {
    en: 'Thunderbird: Settings › Privacy & Security › Certificates › Manage Certificates › Authorities › Import, pick the file, tick “Trust this CA to identify websites”. Command line: --cacert / -CAfile mail-lab-ca.crt.',
    id: 'Thunderbird: Pengaturan › Privasi & Keamanan › Sertifikat › Kelola Sertifikat › Otoritas › Impor, pilih berkasnya, centang “Percayai CA ini untuk mengidentifikasi situs web”. Baris perintah: --cacert / -CAfile mail-lab-ca.crt.',
  },
  'mylab.caOff': { en: 'TLS is off in this lab: there is no CA certificate.', id: 'TLS tidak aktif di lab ini: tidak ada sertifikat CA.' },
  'mylab.caFailed': { en: 'The mail servers do not answer, so the CA certificate cannot be fetched now ({detail}).', id: 'Server e-mail tidak menjawab, jadi sertifikat CA tidak bisa diambil sekarang ({detail}).' },
  'mylab.worksheets': { en: 'Worksheets', id: 'Lembar kerja' },
  'mylab.worksheetsIntro': { en: 'One worksheet per exercise, in the suggested order.', id: 'Satu lembar kerja untuk setiap latihan, menurut urutan yang disarankan.' },
  'mylab.noWorksheets': { en: 'The worksheets are not on this computer.', id: 'Lembar kerja tidak ada di komputer ini.' },
  'mylab.mailbox': { en: 'Your mailbox file', id: 'Berkas mailbox Anda' },
  'mylab.mailboxText': {
    en: 'Your INBOX is one plain-text file on the mail server: {path} ({size}). Its last lines, as cat shows them:',
    id: 'INBOX Anda adalah satu berkas teks biasa di server e-mail: {path} ({size}). Baris-baris terakhirnya, seperti yang ditampilkan cat:',
  },
  'mylab.mailboxEmpty': { en: 'Your INBOX file {path} is empty: no message yet.', id: 'Berkas INBOX Anda {path} kosong: belum ada pesan.' },
  'mylab.mailboxAll': { en: 'The whole file, live', id: 'Seluruh berkas, langsung' },
  'mylab.mailboxFailed': { en: 'The mailbox file cannot be read now: {detail}', id: 'Berkas mailbox tidak bisa dibaca sekarang: {detail}' },
  'guide.title': { en: 'Worksheets', id: 'Lembar kerja' },
  'guide.notFound': { en: 'There is no worksheet {name}.', id: 'Tidak ada lembar kerja {name}.' },
  'guide.ports': {
    en: 'This worksheet uses the ports of lab 0 (10025, 10143, 20587 …). You are in lab {n}: add {plus} to every port (garudayaksa.com IMAP 10143 → {imap}). In Docker commands, mail-lab-dadali is mail-lab-{nn}-dadali in your lab (and so on).',
    id: 'Lembar kerja ini memakai port lab 0 (10025, 10143, 20587 …). Anda berada di lab {n}: tambahkan {plus} ke setiap port (IMAP garudayaksa.com 10143 → {imap}). Dalam perintah Docker, mail-lab-dadali menjadi mail-lab-{nn}-dadali di lab Anda (dan seterusnya).',
  },
  'guide.back': { en: '← My lab', id: '← Lab saya' },
});

// ---------------------------------------------------------------------------
// worksheets

/** docs/guide of the repository, from the sources or from dist/; null when it is not there. */
export function guideDir(): string | null {
  for (const d of [join(__dirname, '../../../../docs/guide'), join(__dirname, '../../../../../docs/guide')]) if (existsSync(join(d, 'en'))) return d;
  return null;
}

export interface Worksheet {
  name: string;
  title: string;
}

/** The worksheets of a language, in the order of docs/guide/README.md (then any others by name). */
export function worksheets(lang: Lang): Worksheet[] {
  const dir = guideDir();
  if (!dir || !existsSync(join(dir, lang))) return [];
  const names = readdirSync(join(dir, lang))
    .filter((f) => /^[a-z0-9-]{1,60}\.md$/.test(f))
    .map((f) => f.slice(0, -3));
  let order: string[] = [];
  try {
    order = [...readFileSync(join(dir, 'README.md'), 'utf8').matchAll(/\]\(en\/([a-z0-9-]+)\.md\)/g)].map((m) => m[1]);
  } catch {
    // no README: by name
  }
  const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
  return names
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((name) => ({ name, title: markdownTitle(readFileSync(join(dir, lang, `${name}.md`), 'utf8')) ?? name }));
}

function readWorksheet(lang: Lang, name: string): string | null {
  const dir = guideDir();
  if (!dir || !/^[a-z0-9-]{1,60}$/.test(name)) return null;
  const file = join(dir, lang, `${name}.md`);
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

/** A link inside a worksheet: another worksheet goes to its page; anything else of the repository is text only. */
function worksheetLink(lab: number, lang: Lang) {
  return (href: string): string | null => {
    const m = /^(?:\.\.\/(en|id)\/|\.\/)?([a-z0-9-]{1,60})\.md(#[\w-]*)?$/.exec(href);
    if (m) return `/lab/${lab}/guide/${m[2]}${m[1] && m[1] !== lang ? `?lang=${m[1]}` : ''}${m[3] ?? ''}`;
    if (/^(\.\.\/)?README\.md$/.test(href)) return `/lab/${lab}/guide`;
    return null;
  };
}

// ---------------------------------------------------------------------------
// the page

const PORTS = ['smtp', 'submission', 'pop3', 'imap', 'smtps', 'imaps', 'pop3s'] as const;

/** The host name the browser used to reach this server (the lab's computer for the student). */
function hostOf(c: WebContext): string {
  const h = c.req.header('host') ?? '127.0.0.1';
  return h.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') || '127.0.0.1';
}

async function labCa(lab: WebLab): Promise<{ ca: LabCaCertificate } | { off: true } | { error: string }> {
  let last = '';
  for (const d of lab.config.domains) {
    try {
      return { ca: await lab.mail(d.name).call(MAIL_API.ca) };
    } catch (e) {
      if (e instanceof AdminCallError && e.status === 404 && /offers no TLS/.test(e.message)) return { off: true };
      last = (e as Error).message;
    }
  }
  return { error: last };
}

function Ports(props: { lab: WebLab; host: string; t: T }) {
  const { lab, t } = props;
  const domains = lab.config.domains;
  const first = domains[0];
  return (
    <section class="ml-ports" aria-labelledby="ml-ports">
      <h2 id="ml-ports">{t('mylab.ports')}</h2>
      <p>{t('mylab.portsIntro', { host: props.host, n: lab.n, plus: 100 * lab.n })}</p>
      <table class="ports">
        <thead>
          <tr>
            <th>{t('mylab.service')}</th>
            {domains.map((d) => (
              <th>{d.name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {PORTS.filter((p) => domains.some((d) => d.ports[p] !== undefined)).map((p) => (
            <tr data-port={p}>
              <th>{t(`mylab.${p}`)}</th>
              {domains.map((d) => (
                <td>{d.ports[p] ?? '–'}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p>{t('mylab.dns', { port: lab.config.dns.hostPort })}</p>
      <p>{t('mylab.try')}</p>
      <pre class="code">
        {`telnet ${props.host} ${first.ports.smtp}\n` +
          `telnet ${props.host} ${first.ports.imap}\n` +
          `openssl s_client -starttls smtp -connect ${props.host}:${first.ports.submission} -CAfile mail-lab-ca.crt\n` +
          `dig @${props.host} -p ${lab.config.dns.hostPort} MX ${first.name}`}
      </pre>
    </section>
  );
}

function Accounts(props: { lab: WebLab; me?: string; t: T }) {
  const { lab, t } = props;
  return (
    <section class="ml-accounts" aria-labelledby="ml-accounts">
      <h2 id="ml-accounts">{t('mylab.accounts')}</h2>
      <p>{t('mylab.accountsIntro')}</p>
      {lab.config.domains.map((d) => {
        const gen = d.students;
        const aliases = Object.keys(d.aliases ?? {});
        return (
          <div class="domain-accounts" data-domain={d.name}>
            <h3>{d.name}</h3>
            <ul class="accounts">
              {d.accounts.map((a) => {
                const address = `${a.user}@${d.name}`;
                return (
                  <li class={address === props.me ? 'me' : undefined}>
                    <code>{address}</code> {a.name && <span>{a.name}</span>} {address === props.me && <strong>{t('mylab.yours')}</strong>}
                  </li>
                );
              })}
              {gen && (
                <li>
                  {t('mylab.generated', {
                    first: `${gen.prefix}${'1'.padStart(2, '0')}@${d.name}`,
                    last: `${gen.prefix}${String(gen.count).padStart(2, '0')}@${d.name}`,
                    count: gen.count,
                  })}
                </li>
              )}
            </ul>
            {aliases.length > 0 && <p class="muted">{t('mylab.aliases', { list: aliases.map((a) => `${a}@${d.name}`).join(', ') })}</p>}
          </div>
        );
      })}
    </section>
  );
}

function Ca(props: { lab: number; r: Awaited<ReturnType<typeof labCa>>; lang: Lang; t: T }) {
  const { r, t } = props;
  return (
    <section class="ml-ca" aria-labelledby="ml-ca">
      <h2 id="ml-ca">{t('mylab.ca')}</h2>
      {'ca' in r ? (
        <>
          <p>{t('mylab.caText')}</p>
          <p>
            <a class="button" href={`/lab/${props.lab}/ca.crt`} download="mail-lab-ca.crt">
              {t('mylab.caDownload')}
            </a>
          </p>
          <p class="fingerprint">
            {t('mylab.caFingerprint', { fp: r.ca.fingerprint256 })} {t('mylab.caValid', { date: new Date(r.ca.validTo).toLocaleDateString(props.lang === 'id' ? 'id-ID' : 'en-GB', { dateStyle: 'long' }) })}
          </p>
          <p class="muted">{t('mylab.caThunderbird')}</p>
        </>
      ) : 'off' in r ? (
        <p>{t('mylab.caOff')}</p>
      ) : (
        <p class="notice error">{t('mylab.caFailed', { detail: r.error })}</p>
      )}
    </section>
  );
}

function Worksheets(props: { lab: number; lang: Lang; t: T }) {
  const list = worksheets(props.lang);
  const { t } = props;
  return (
    <section class="ml-worksheets" id="worksheets" aria-labelledby="ml-worksheets">
      <h2 id="ml-worksheets">{t('mylab.worksheets')}</h2>
      {list.length ? (
        <>
          <p>{t('mylab.worksheetsIntro')}</p>
          <ol class="worksheets">
            {list.map((w) => (
              <li>
                <a href={`/lab/${props.lab}/guide/${w.name}`}>{w.title.replace(/^(Worksheet|Lembar Kerja):\s*/i, '')}</a>
              </li>
            ))}
          </ol>
        </>
      ) : (
        <p class="muted">{t('mylab.noWorksheets')}</p>
      )}
    </section>
  );
}

/** The last lines of the student's own INBOX file, through the admin API (their own account only: the session's). */
async function MailboxFile(props: { lab: WebLab; domain: string; localPart: string; lang: Lang; t: T }) {
  const { t } = props;
  let body;
  try {
    const file = await props.lab.mail(props.domain).call(MAIL_API.mailbox, { user: props.localPart });
    const lines = file.text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
    const size = sizeInWords(Buffer.byteLength(file.text, 'latin1'), props.lang);
    body =
      file.text === '' ? (
        <p>{t('mylab.mailboxEmpty', { path: file.path })}</p>
      ) : (
        <>
          <p>{t('mylab.mailboxText', { path: file.path, size })}</p>
          <pre class="mbox-tail" data-lines={String(lines.length)}>
            {lines.slice(-30).join('\n')}
          </pre>
        </>
      );
  } catch (e) {
    body = <p class="notice error">{t('mylab.mailboxFailed', { detail: (e as Error).message })}</p>;
  }
  return (
    <section class="ml-mailbox" aria-labelledby="ml-mailbox">
      <h2 id="ml-mailbox">{t('mylab.mailbox')}</h2>
      {body}
      <p>
        <a href={`/lab/${props.lab.n}/mailbox/${encodeURIComponent(props.localPart)}`}>{t('mylab.mailboxAll')}</a>
      </p>
    </section>
  );
}

export function registerMyLabPages(app: WebApp): void {
  app.get('/lab/:n/', requireLogin, requireLab, async (c) => {
    const lab = currentLab(c);
    const s = currentSession(c);
    const t = c.var.t;
    const lang = c.var.lang;
    const ca = await labCa(lab);
    const mine = s.role === 'student' && s.domain && s.localPart;
    return page(c, {
      title: t('mylab.title', { n: lab.n }),
      nav: 'mylab',
      lab: lab.n,
      assets: ['webmail.css'],
      body: (
        <div class="mylab">
          <div class="page-head">
            <h1>{t('mylab.title', { n: lab.n })}</h1>
            {lab.student && <p class="student">{t('mylab.student', { name: lab.student })}</p>}
          </div>
          <p class="who-am-i">
            {s.role === 'student' ? t('mylab.you', { name: s.name, address: s.user }) : t('mylab.instructor', { n: lab.n })}{' '}
            {s.role === 'student' && (
              <a class="button" href={`/lab/${lab.n}/webmail`}>
                {t('mylab.open')}
              </a>
            )}
          </p>
          <div class="mylab-grid">
            <Ports lab={lab} host={hostOf(c)} t={t} />
            <Accounts lab={lab} me={s.role === 'student' ? s.user : undefined} t={t} />
            <Ca lab={lab.n} r={ca} lang={lang} t={t} />
            <Worksheets lab={lab.n} lang={lang} t={t} />
            {mine ? <MailboxFile lab={lab} domain={s.domain!} localPart={s.localPart!} lang={lang} t={t} /> : null}
          </div>
        </div>
      ),
    });
  });

  app.get('/lab/:n/ca.crt', requireLogin, requireLab, async (c) => {
    const lab = currentLab(c);
    const r = await labCa(lab);
    if ('off' in r) return errorPage(c, 404, 'mylab.caOff');
    if ('error' in r) return errorPage(c, 502, 'mylab.caFailed', { detail: r.error });
    return c.body(r.ca.pem, 200, {
      'content-type': 'application/x-x509-ca-cert',
      'content-disposition': `attachment; filename="mail-lab-ca${lab.n ? `-lab${lab.n}` : ''}.crt"`,
    });
  });

  app.get('/lab/:n/guide', requireLogin, requireLab, (c) => c.redirect(`/lab/${currentLab(c).n}/#worksheets`, 302));

  app.get('/lab/:n/guide/:name', requireLogin, requireLab, async (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    const lang = c.var.lang;
    const name = c.req.param('name');
    const text = readWorksheet(lang, name);
    if (text === null) return errorPage(c, 404, 'guide.notFound', { name });
    const imap = lab.config.domains[0]?.ports.imap;
    const other: Lang = lang === 'en' ? 'id' : 'en';
    return page(c, {
      title: markdownTitle(text) ?? name,
      nav: 'mylab',
      lab: lab.n,
      assets: ['webmail.css'],
      body: (
        <div class="worksheet-page">
          <p class="worksheet-nav">
            <a href={`/lab/${lab.n}/`}>{t('guide.back')}</a>
            {readWorksheet(other, name) !== null && (
              <a href={`/lab/${lab.n}/guide/${name}?lang=${other}`} hreflang={other} lang={other}>
                {t('lang.switch')}
              </a>
            )}
          </p>
          {lab.n > 0 && <p class="notice info">{t('guide.ports', { n: lab.n, nn: String(lab.n).padStart(2, '0'), plus: 100 * lab.n, imap: imap ?? 10143 + 100 * lab.n })}</p>}
          <article class="worksheet" data-worksheet={name}>
            <Markdown text={text} o={{ linkTo: worksheetLink(lab.n, lang) }} />
          </article>
        </div>
      ),
    });
  });
}
