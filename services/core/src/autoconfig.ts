/**
 * The configuration file a mail program fetches to set up an account by
 * itself, in Mozilla's ISPDB format "clientConfig v1.1" (the file
 * Thunderbird asks for at `http://autoconfig.<domain>/mail/config-v1.1.xml`
 * and `http://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`). One
 * pure function, so every door that serves it (the mail domains' HTTP side,
 * services/mail-domain/src/autoconfig/) says the same.
 *
 * What it describes: IMAP (first, the one a client picks by default) and
 * POP3 to read, SMTP submission to send, each with STARTTLS when the lab has
 * TLS, a cleartext password (protected by STARTTLS) and the full address as
 * the login name (the servers accept `user` and `user@domain`; the address
 * is the one that cannot be mistaken). For POP3 it asks to leave messages
 * on the server, as a class sharing accounts between programs needs.
 *
 * Who asks decides the host name and the ports, and the file says which it
 * assumed (an XML comment and the documentation text):
 * - `lab`: a program on the lab network (the Docker lab's client
 *   container): `mail.<domain>` and the standard ports.
 * - `host`: a program on the computer that runs the lab (or, when the
 *   instructor opened the lab to the LAN, one that reached it by this
 *   host's address): that address and the lab's host ports (lab N: + 100·N).
 */
import type { DomainConfig, LabConfig } from './config';

export interface AutoconfigView {
  /** `lab`: on the lab network (mail.<domain>, standard ports); `host`: through the host's published ports. */
  kind: 'lab' | 'host';
  /** The host name the program should connect to; for `lab` the mail host is used when absent. */
  hostname?: string;
}

export interface AutoconfigOptions {
  /** Whether the servers offer STARTTLS (a lab CA); without it the file says plain. @default true */
  tls?: boolean;
  /** Where a person reads how to set up a mail program by hand (the documentation element). */
  documentationUrl?: string;
}

/** The standard ports on the lab network. */
const STANDARD = { imap: 143, pop3: 110, submission: 587 } as const;

/** Escapes text for XML content and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The host name and ports a program of this view uses for `d`. */
export function autoconfigEndpoints(d: DomainConfig, view: AutoconfigView): { hostname: string; imap: number; pop3: number; submission: number } {
  if (view.kind === 'lab') return { hostname: view.hostname ?? d.mailHost, ...STANDARD };
  return { hostname: view.hostname ?? '127.0.0.1', imap: d.ports.imap, pop3: d.ports.pop3, submission: d.ports.submission };
}

function assumption(d: DomainConfig, view: AutoconfigView, e: ReturnType<typeof autoconfigEndpoints>): { en: string; id: string } {
  if (view.kind === 'lab') {
    return {
      en: `For a mail program on the lab network (the client container): ${e.hostname}, the standard ports (IMAP ${e.imap}, POP3 ${e.pop3}, submission ${e.submission}).`,
      id: `Untuk program e-mail di jaringan lab (kontainer client): ${e.hostname}, port standar (IMAP ${e.imap}, POP3 ${e.pop3}, submission ${e.submission}).`,
    };
  }
  return {
    en: `For a mail program on the computer that runs the lab, or on the classroom LAN when the lab is opened to it: ${e.hostname} and this lab's host ports (IMAP ${e.imap}, POP3 ${e.pop3}, submission ${e.submission}). From another computer, use the address of the lab's computer instead of ${e.hostname}.`,
    id: `Untuk program e-mail di komputer yang menjalankan lab, atau di jaringan kelas bila lab dibuka untuknya: ${e.hostname} dan port host lab ini (IMAP ${e.imap}, POP3 ${e.pop3}, submission ${e.submission}). Dari komputer lain, pakai alamat komputer lab sebagai ganti ${e.hostname}.`,
  };
}

/**
 * The clientConfig v1.1 document for `domain` of the lab `config` (lab N
 * already derived: its host ports) as seen by `view`. Throws when `domain`
 * is not a lab domain.
 */
export function autoconfigXml(config: LabConfig, domain: string, view: AutoconfigView, o: AutoconfigOptions = {}): string {
  const d = config.domains.find((x) => x.name === domain.toLowerCase());
  if (!d) throw new Error(`${domain} is not a domain of this lab (${config.domains.map((x) => x.name).join(', ')})`);
  const e = autoconfigEndpoints(d, view);
  const tls = o.tls ?? true;
  const socket = tls ? 'STARTTLS' : 'plain';
  const x = xmlEscape;
  const said = assumption(d, view, e);
  const server = (tag: 'incomingServer' | 'outgoingServer', type: string, port: number, extra = '') =>
    [
      `    <${tag} type="${type}">`,
      `      <hostname>${x(e.hostname)}</hostname>`,
      `      <port>${port}</port>`,
      `      <socketType>${socket}</socketType>`,
      // The lab's servers take user@domain as well as the bare user name; the address is unambiguous.
      `      <username>%EMAILADDRESS%</username>`,
      `      <authentication>password-cleartext</authentication>`,
      extra,
      `    </${tag}>`,
    ]
      .filter((l) => l !== '')
      .join('\n');
  const doc = o.documentationUrl ?? 'docs/guide/en/mail-client-setup.md';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- mail-lab: the mail settings of ${x(d.name)}, generated from the lab definition.`,
    `     ${x(said.en)}`,
    `     ${tls ? 'STARTTLS needs the lab CA trusted (npx mail-lab ca).' : 'This lab runs without TLS: passwords travel in clear text.'} -->`,
    '<clientConfig version="1.1">',
    `  <emailProvider id="${x(d.name)}">`,
    `    <domain>${x(d.name)}</domain>`,
    `    <displayName>mail-lab ${x(d.name)} (${view.kind === 'lab' ? 'lab network' : `host ${x(e.hostname)}`})</displayName>`,
    `    <displayShortName>${x(d.name)}</displayShortName>`,
    server('incomingServer', 'imap', e.imap),
    server(
      'incomingServer',
      'pop3',
      e.pop3,
      // RFC 1939 §8 leaves it to the client; a lab account is read by several programs, so keep a copy on the server.
      ['      <pop3>', '        <leaveMessagesOnServer>true</leaveMessagesOnServer>', '        <downloadOnBiff>true</downloadOnBiff>', '      </pop3>'].join('\n'),
    ),
    server('outgoingServer', 'smtp', e.submission),
    `    <documentation url="${x(doc)}">`,
    `      <descr lang="en">${x(said.en)}</descr>`,
    `      <descr lang="id">${x(said.id)}</descr>`,
    '    </documentation>',
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}
