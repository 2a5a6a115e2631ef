/**
 * `class cards`: a card per student to print and hand out, in Markdown and
 * HTML (one card per page): the student's lab number, the address of the
 * teacher's machine, the host ports of both mail domains, the accounts and
 * their passwords, and how to trust the lab CA (the lab's own certificate
 * file beside the cards, with its fingerprint). Names and every other text
 * are escaped for HTML: a name with markup is shown as text.
 */
import type { LabConfig } from '../../services/core/src/config';

export interface CardAccount {
  address: string;
  name?: string;
  /** The password in clear, when it is known (a shared default the definition documents, or a generated one); null otherwise. */
  password: string | null;
}

export interface Card {
  lab: number;
  student?: string;
  /** Lab N of the definition: its host ports. */
  config: LabConfig;
  /** Where the students reach the lab (the teacher's LAN address, or 127.0.0.1). */
  host: string;
  accounts: CardAccount[];
  /** The lab CA's certificate file (beside the cards) and its SHA-256 fingerprint, when the lab runs. */
  ca?: { file: string; fingerprint: string };
  /** One lab for the whole class (generated accounts), not a lab of the student's own. */
  shared?: boolean;
  /** The card's title when it is not a lab's: `siswa07`. */
  title?: string;
}

const intro = (c: Card) => (c.shared ? `The class's mail lab (lab ${c.lab}) on ${c.host}: your own accounts in it are below.` : `Your own mail lab: lab ${c.lab} on ${c.host}. Nobody else uses it.`);
const heading = (c: Card) => `${c.title ?? `Lab ${pad2(c.lab)}`}${c.student ? ` — ${c.student}` : ''}`;

const PORTS: [keyof LabConfig['domains'][number]['ports'], string][] = [
  ['smtp', 'SMTP (telnet, 25)'],
  ['submission', 'SMTP submission, login (587)'],
  ['pop3', 'POP3 (110)'],
  ['imap', 'IMAP (143)'],
  ['smtps', 'SMTPS (465)'],
  ['pop3s', 'POP3S (995)'],
  ['imaps', 'IMAPS (993)'],
];

const pad2 = (n: number) => String(n).padStart(2, '0');

function portRows(c: Card): string[][] {
  return PORTS.filter(([k]) => c.config.domains.some((d) => d.ports[k] !== undefined)).map(([k, label]) => [label, ...c.config.domains.map((d) => String(d.ports[k] ?? '-'))]);
}

const TRUST = 'Thunderbird: Settings > Privacy & Security > Certificates > Manage Certificates > Authorities > Import, choose the file, tick "Trust this CA to identify websites".';

export function cardsMarkdown(cards: Card[]): string {
  const out: string[] = ['# mail-lab: the students\' cards', ''];
  for (const c of cards) {
    out.push(`## ${heading(c)}`, '');
    out.push(intro(c), '');
    out.push(`| service | ${c.config.domains.map((d) => d.name).join(' | ')} |`, `| --- |${c.config.domains.map(() => ' --- |').join('')}`);
    for (const r of portRows(c)) out.push(`| ${r.join(' | ')} |`);
    out.push('', `First exercise: \`telnet ${c.host} ${c.config.domains[c.config.domains.length - 1].ports.smtp}\`.`, '');
    out.push('| account | password |', '| --- | --- |');
    for (const a of c.accounts) out.push(`| ${a.address}${a.name ? ` (${a.name})` : ''} | ${a.password ?? '(ask the teacher)'} |`);
    out.push('');
    if (c.ca) out.push(`TLS: trust the lab CA in \`${c.ca.file}\` (SHA-256 ${c.ca.fingerprint}). ${TRUST}`, '');
    out.push('---', '');
  }
  return out.join('\n');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

export function cardsHtml(cards: Card[]): string {
  const card = (c: Card) => `<section class="card">
<h1>${esc(heading(c))}</h1>
<p>${esc(intro(c))}</p>
<table><tr><th>service</th>${c.config.domains.map((d) => `<th>${esc(d.name)}</th>`).join('')}</tr>
${portRows(c)
  .map((r) => `<tr>${r.map((x, i) => (i ? `<td class="port">${esc(x)}</td>` : `<td>${esc(x)}</td>`)).join('')}</tr>`)
  .join('\n')}</table>
<p>First exercise: <code>telnet ${esc(c.host)} ${c.config.domains[c.config.domains.length - 1].ports.smtp}</code></p>
<table><tr><th>account</th><th>password</th></tr>
${c.accounts.map((a) => `<tr><td>${esc(a.address)}${a.name ? ` (${esc(a.name)})` : ''}</td><td><code>${esc(a.password ?? '(ask the teacher)')}</code></td></tr>`).join('\n')}</table>
${c.ca ? `<p class="small">TLS: trust the lab CA in <code>${esc(c.ca.file)}</code> (SHA-256 ${esc(c.ca.fingerprint)}). ${esc(TRUST)}</p>` : ''}
</section>`;
  return `<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>mail-lab: cards</title>
<style>
body { font-family: "DejaVu Sans", sans-serif; margin: 0; }
.card { padding: 1.5cm; page-break-after: always; }
h1 { font-size: 20pt; margin: 0 0 .4cm; }
table { border-collapse: collapse; margin: .3cm 0; }
th, td { border: 1px solid #444; padding: 3pt 8pt; text-align: left; font-size: 11pt; }
td.port { font-family: "DejaVu Sans Mono", monospace; font-size: 13pt; }
.small { font-size: 9pt; }
</style></head><body>
${cards.map(card).join('\n')}
</body></html>
`;
}
