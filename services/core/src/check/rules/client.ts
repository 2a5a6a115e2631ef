/**
 * The task in which students set up a mail program themselves
 * (mail-client-setup, the lesson's "Konfigurasi"): done when the servers saw
 * that program at work on both sides, a login that reads the mailbox (IMAP
 * or POP3) and a message handed in on the submission port after a password
 * (AUTH), the way Thunderbird sends. What the program said of itself (IMAP
 * ID, RFC 2971) and the automatic set-up it asked the lab DNS for
 * (autoconfig.<domain>, RFC 6186 SRV names) are told when the records have
 * them; they are not required, since a program set up by hand asks neither.
 */
import type { Session } from '../records';
import { notYet, partly, done, type Rule } from '../rule';
import type { StudentView } from '../student';
import { clock } from '../words';

/** The RFC 6186 SRV names and the autoconfig host a mail program asks for during automatic set-up. */
const SETUP_NAME = /^(autoconfig\.|_(submissions?|imaps?|pop3s?)\._tcp\.)/i;

const reading = (v: StudentView) => v.sessions.filter((s) => (s.protocol === 'imap' || s.protocol === 'pop3') && s.login);
const submitting = (v: StudentView) =>
  v.sessions.filter(
    (s) => s.protocol === 'smtp' && s.port !== 25 && s.cmds.some((c) => c.verb === 'AUTH' && c.reply.startsWith('235')) && s.cmds.some((c) => c.verb === '[DATA]' && c.reply.startsWith('250')),
  );

/** `Thunderbird 128.5.0` from an IMAP `ID ("name" "Thunderbird" "version" "128.5.0" …)`. */
export function idOf(s: Session): string | undefined {
  const id = s.cmds.find((c) => c.verb === 'ID');
  if (!id) return undefined;
  const field = (name: string) => new RegExp(`"${name}"\\s+"([^"]*)"`, 'i').exec(id.arg)?.[1];
  const name = field('name');
  return name ? [name, field('version')].filter(Boolean).join(' ') : undefined;
}

export const mailClientSetup: Rule = (v, w) => {
  const reads = reading(v);
  const sends = submitting(v);
  const evidence: string[] = [];
  const missing: string[] = [];
  const r = reads.find((s) => idOf(s)) ?? reads[0];
  if (r) {
    const program = idOf(r);
    evidence.push(
      w.t(
        `${r.login} logged in over ${r.protocol.toUpperCase()} at ${clock(r.start)} ${w.where(r)}${program ? `; the program said it is ${program} (IMAP ID)` : ''}`,
        `${r.login} login lewat ${r.protocol.toUpperCase()} pukul ${clock(r.start)} ${w.where(r)}${program ? `; programnya menyebut dirinya ${program} (IMAP ID)` : ''}`,
      ),
    );
  } else missing.push(w.t('the mail program reading the mailbox: a login over IMAP (port 143) or POP3 (port 110)', 'program e-mail yang membaca kotak surat: login lewat IMAP (port 143) atau POP3 (port 110)'));
  const s = sends[0];
  if (s) {
    const to = s.cmds.filter((c) => c.verb === 'RCPT' && c.reply.startsWith('250')).map((c) => c.arg.replace(/^TO:\s*/i, ''));
    evidence.push(
      w.t(
        `a message sent after a password (AUTH as ${s.user ?? '?'}) at ${clock(s.start)} ${w.where(s)}${to.length ? `, to ${w.and(to)}` : ''}`,
        `surat dikirim setelah kata sandi (AUTH sebagai ${s.user ?? '?'}) pukul ${clock(s.start)} ${w.where(s)}${to.length ? `, ke ${w.and(to)}` : ''}`,
      ),
    );
  } else missing.push(w.t('the mail program sending: a message on the submission port (587) after logging in (AUTH)', 'program e-mail yang mengirim: surat di port submission (587) setelah login (AUTH)'));
  const asked = [...new Set(v.dns.filter((q) => SETUP_NAME.test(q.name)).map((q) => `${q.type} ${q.name.replace(/\.$/, '')}`))];
  if (asked.length) evidence.push(w.t(`automatic set-up: asked the lab DNS for ${w.and(asked.slice(0, 4))}${asked.length > 4 ? ' …' : ''}`, `penyetelan otomatis: bertanya ke DNS lab tentang ${w.and(asked.slice(0, 4))}${asked.length > 4 ? ' …' : ''}`));
  if (!r && !s) return asked.length ? partly(evidence, missing) : notYet(missing);
  return missing.length ? partly(evidence, missing) : done(evidence);
};
