/**
 * Answers to the SMTP commands the lesson lists that smtp-server does not
 * implement the way a class needs: HELP (lists the commands, RFC 5321
 * 4.1.1.8), VRFY (confirms a local account, 4.1.1.6), EXPN (expands a lab
 * alias, 4.1.1.7) and VERB (Sendmail's verbose mode: switched on here, the
 * narration is smtp/verbose.ts). Pure functions: lab-connection.ts sends
 * what they return.
 */
import type { AccountDirectory } from '../accounts';

export interface Reply {
  code: number;
  /** Lines of the reply; each carries its own RFC 3463 enhanced code. */
  lines: string[];
}

export interface CommandSettings {
  domain: string;
  hostname: string;
  vrfy: boolean;
  expn: boolean;
  submission: boolean;
  /** STARTTLS is offered (the server has a certificate). */
  starttls?: boolean;
}

const HELP: Record<string, string> = {
  HELO: 'HELO <your-host>: say hello (old SMTP)',
  EHLO: 'EHLO <your-host>: say hello and ask for the ESMTP extensions',
  MAIL: 'MAIL FROM:<sender@domain>: start a message, name the sender',
  RCPT: 'RCPT TO:<recipient@domain>: name a recipient (repeat for more)',
  DATA: 'DATA: send the message; end it with a line holding only "."',
  RSET: 'RSET: forget the message being written',
  NOOP: 'NOOP: do nothing, the server answers 250',
  QUIT: 'QUIT: end the session',
  HELP: 'HELP [command]: this help',
  VRFY: 'VRFY <user>: does this mailbox exist here?',
  EXPN: 'EXPN <list>: who is on this mailing list (alias)?',
  VERB: 'VERB: verbose mode (Sendmail): after DATA, each delivery step is told in 050 lines before the 250',
  AUTH: 'AUTH PLAIN|LOGIN: log in (submission port 587)',
  STARTTLS: 'STARTTLS: switch this connection to TLS (RFC 3207), then EHLO again',
};

/** What the client typed, fit to echo in a reply line: control characters (a bare CR, NUL) become `?`. */
const shown = (text: string) => text.replace(/[\x00-\x1f\x7f]/g, '?');

export function help(argument: string, settings: CommandSettings): Reply {
  const verb = argument.trim().toUpperCase();
  const commands = ['HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'NOOP', 'QUIT', 'HELP', 'VRFY', 'EXPN', 'VERB', ...(settings.submission ? ['AUTH'] : []), ...(settings.starttls ? ['STARTTLS'] : [])];
  if (verb) {
    const text = HELP[verb];
    return text && commands.includes(verb) ? { code: 214, lines: [`2.0.0 ${text}`] } : { code: 504, lines: [`5.5.1 HELP: unknown command "${shown(argument.trim())}"`] };
  }
  return {
    code: 214,
    lines: [
      `2.0.0 ${settings.hostname} (mail-lab) accepts these commands:`,
      `2.0.0   ${commands.slice(0, 6).join(' ')}`,
      `2.0.0   ${commands.slice(6).join(' ')}`,
      '2.0.0 "HELP <command>" explains one. Mail for this domain: RCPT TO a user here.',
      '2.0.0 End of HELP info',
    ],
  };
}

/** `jpri`, `jpri@dadali.com`, `<jpri@dadali.com>`, `Joko <jpri@dadali.com>` -> local part and domain. */
export function parseMailbox(argument: string): { local: string; domain: string | null } | null {
  const text = argument.trim();
  const angle = /<([^<>]*)>/.exec(text);
  const address = (angle ? angle[1] : text).trim();
  if (!address || /\s/.test(address)) return null;
  const at = address.lastIndexOf('@');
  if (at === 0) return null;
  return at < 0 ? { local: address.toLowerCase(), domain: null } : { local: address.slice(0, at).toLowerCase(), domain: address.slice(at + 1).toLowerCase() };
}

/** `smtp.localSenders` of lab.yaml: what port 25 does with MAIL FROM a sender of its own domain. */
export type LocalSenderPolicy = 'accept' | 'require-auth';

/**
 * The anti-forgery check at MAIL FROM on port 25. A sender of the server's
 * own domain can only be genuine when that user logged in, which on port 25
 * never happens: the domain's own users submit on 587 (RFC 6409), so with
 * `require-auth` such a MAIL FROM is refused (550 5.7.1, RFC 3463 "delivery
 * not authorized"). The null sender `<>` of bounces (RFC 5321 4.5.5) and
 * other domains' senders pass; the submission ports have their own check
 * (a logged-in user sends only as their own domain). Returns the refusal,
 * or null to go on.
 */
export function localSenderRefusal(sender: string, settings: { domain: string; submission: boolean; localSenders?: LocalSenderPolicy }, authenticated: boolean): Reply | null {
  if (settings.submission || authenticated || (settings.localSenders ?? 'accept') === 'accept' || !sender) return null;
  const box = parseMailbox(sender);
  if (!box || box.domain !== settings.domain.toLowerCase()) return null;
  return { code: 550, lines: [`5.7.1 <${shown(sender)}>: senders of ${settings.domain} must log in (submission on port 587)`] };
}

const display = (accounts: AccountDirectory, address: string) => {
  const user = accounts.localUser(address);
  const name = user ? accounts.displayName(user) : undefined;
  return name ? `${name} <${address}>` : `<${address}>`;
};

export function vrfy(argument: string, accounts: AccountDirectory, settings: CommandSettings): Reply {
  if (!argument.trim()) return { code: 501, lines: ['5.5.4 Syntax: VRFY <user> or VRFY <user@domain>'] };
  if (!settings.vrfy) return { code: 252, lines: ['2.5.0 VRFY is disabled here; send the message and the server will try to deliver it'] };
  const box = parseMailbox(argument);
  if (!box) return { code: 501, lines: [`5.1.3 "${shown(argument.trim())}" is not a mailbox name`] };
  if (box.domain && box.domain !== settings.domain) {
    return { code: 252, lines: [`2.1.5 ${shown(box.domain)} is not this domain; cannot verify, but mail will be relayed for authenticated users`] };
  }
  const user = accounts.localUser(box.local);
  if (user) return { code: 250, lines: [`2.1.5 ${display(accounts, `${user}@${settings.domain}`)}`] };
  if (accounts.expandAlias(box.local)) return { code: 252, lines: [`2.1.5 ${shown(box.local)}@${settings.domain} is a mailing list (alias); EXPN ${shown(box.local)} shows its members`] };
  return { code: 550, lines: [`5.1.1 <${shown(box.local)}@${settings.domain}>: no such user here`] };
}

export function expn(argument: string, accounts: AccountDirectory, settings: CommandSettings): Reply {
  if (!argument.trim()) return { code: 501, lines: ['5.5.4 Syntax: EXPN <list>'] };
  if (!settings.expn) return { code: 252, lines: ['2.5.0 EXPN is disabled here'] };
  const box = parseMailbox(argument);
  if (!box || (box.domain && box.domain !== settings.domain)) return { code: 550, lines: [`5.1.1 ${shown(argument.trim())}: not a mailing list of ${settings.domain}`] };
  const members = accounts.expandAlias(box.local);
  if (!members) {
    const user = accounts.localUser(box.local);
    return user
      ? { code: 550, lines: [`5.1.1 ${user} is a user, not a mailing list; use VRFY ${user}`] }
      : { code: 550, lines: [`5.1.1 ${shown(box.local)}: no such mailing list here`] };
  }
  // RFC 5321 4.1.1.7: one member per line of a multi-line 250 reply.
  return { code: 250, lines: members.map((m) => `2.1.5 ${display(accounts, m)}`) };
}

/** VERB: Sendmail's verbose mode, on for the rest of the session (the narration is smtp/verbose.ts). */
export function verb(): Reply {
  return { code: 250, lines: ['2.0.0 Verbose mode: after DATA this server delivers while you wait and tells each step (050 lines), then says 250'] };
}
