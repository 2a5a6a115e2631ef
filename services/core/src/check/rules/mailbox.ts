/**
 * The tasks read from POP3 and IMAP sessions and reads (and, for
 * attachments, what the SMTP sessions handed over): pop3-by-hand,
 * pop3-download, imap-folders-search, pop3-vs-imap, attachments.
 */
import { messageOf, type Cmd, type Session } from '../records';
import { best, done, notYet, partly, type Rule } from '../rule';
import type { StudentView } from '../student';
import { clock } from '../words';

const pop3 = (v: StudentView) => v.sessions.filter((s) => s.protocol === 'pop3');
const imap = (v: StudentView) => v.sessions.filter((s) => s.protocol === 'imap' && s.login);
/** POP3 QUIT's answer: how many messages were deleted (-1: no QUIT that deleted anything). */
const deletedAtQuit = (s: Session) => {
  const quit = s.cmds.find((c) => c.verb === 'QUIT' && c.ok);
  const m = quit ? /\((\d+) messages? deleted/.exec(quit.reply) : null;
  return m ? Number(m[1]) : -1;
};

const POP3_STEPS: [string, string, (c: Cmd) => boolean][] = [
  ['USER', 'USER', (c) => c.verb === 'USER' && c.ok],
  ['PASS (logged in: +OK)', 'PASS (berhasil login: +OK)', (c) => c.verb === 'PASS' && c.ok],
  ['LIST', 'LIST', (c) => c.verb === 'LIST' && c.ok],
  ['RETR', 'RETR', (c) => c.verb === 'RETR' && c.ok],
  ['DELE', 'DELE', (c) => c.verb === 'DELE' && c.ok],
  ['QUIT', 'QUIT', (c) => c.verb === 'QUIT' && c.ok],
];

export const pop3ByHand: Rule = (v, w) => {
  const sessions = pop3(v);
  const steps = (s: Session) => POP3_STEPS.filter(([, , ok]) => s.cmds.some(ok));
  const told = (s: Session) => {
    const quit = s.cmds.find((c) => c.verb === 'QUIT');
    const wrong = s.cmds.some((c) => c.verb === 'PASS' && !c.ok);
    return [
      w.t(
        `${w.lines(s.cmds)} at ${clock(s.start)} ${w.where(s)} (${w.pace(s)}${wrong ? '; a wrong password first' : ''})`,
        `${w.lines(s.cmds)} pukul ${clock(s.start)} ${w.where(s)} (${w.pace(s)}${wrong ? '; sebelumnya kata sandi salah' : ''})`,
      ),
      ...(quit ? [`QUIT: ${quit.reply}`] : []),
    ];
  };
  const complete = sessions.find((s) => s.typed && steps(s).length === POP3_STEPS.length);
  if (complete) return done(told(complete));
  const closest = best(sessions, (s) => steps(s).length * 2 + (s.typed ? 1 : 0));
  if (!closest) return notYet([w.t('a POP3 session typed by hand (telnet localhost 10110): USER, PASS, LIST, RETR, DELE, QUIT', 'sesi POP3 yang diketik sendiri (telnet localhost 10110): USER, PASS, LIST, RETR, DELE, QUIT')]);
  const have = steps(closest).map(([n]) => n);
  const missing = POP3_STEPS.filter(([n]) => !have.includes(n)).map(([en, id]) => w.t(en, id));
  if (!closest.typed) missing.push(w.t(`typing it by hand: that session was ${w.pace(closest)}`, `mengetiknya sendiri: sesi itu ${w.pace(closest)}`));
  return partly(told(closest), missing);
};

export const pop3Download: Rule = (v, w) => {
  const sessions = pop3(v).filter((s) => s.cmds.some((c) => c.verb === 'RETR' && c.ok));
  const deleted = sessions.find((s) => deletedAtQuit(s) > 0);
  const told = (s: Session) => {
    const n = (verb: string) => s.cmds.filter((c) => c.verb === verb && c.ok).length;
    return w.t(
      `${s.login ?? s.user ?? '?'} over POP3 at ${clock(s.start)} ${w.where(s)}: ${w.plural(n('RETR'), 'RETR', 'RETR')}, ${w.plural(n('DELE'), 'DELE', 'DELE')}${s.typed ? ', typed' : ''}`,
      `${s.login ?? s.user ?? '?'} lewat POP3 pukul ${clock(s.start)} ${w.where(s)}: ${n('RETR')} RETR, ${n('DELE')} DELE${s.typed ? ', diketik' : ''}`,
    );
  };
  if (deleted) return done([told(deleted), w.t(`QUIT: ${deleted.cmds.find((c) => c.verb === 'QUIT')!.reply} (the mailbox file shrank)`, `QUIT: ${deleted.cmds.find((c) => c.verb === 'QUIT')!.reply} (file kotak surat mengecil)`)]);
  const s = sessions[0];
  if (!s) return notYet([w.t('a POP3 session that downloads (RETR) and deletes (DELE, then QUIT) messages', 'sesi POP3 yang mengunduh (RETR) dan menghapus (DELE, lalu QUIT) surat')]);
  const dele = s.cmds.some((c) => c.verb === 'DELE' && c.ok);
  return partly(
    [told(s)],
    [
      dele
        ? w.t('QUIT after DELE: without QUIT the server deletes nothing', 'QUIT setelah DELE: tanpa QUIT server tidak menghapus apa pun')
        : w.t('DELE and QUIT, so that the server deletes what was downloaded (the file shrinks at QUIT)', 'DELE dan QUIT, supaya server menghapus yang sudah diunduh (file mengecil saat QUIT)'),
    ],
  );
};

const IMAP_STEPS: [string, string, (c: Cmd) => boolean][] = [
  ['SEARCH on the server', 'SEARCH di server', (c) => c.verb === 'SEARCH' && c.ok],
  ['CREATE a folder', 'CREATE sebuah folder', (c) => c.verb === 'CREATE' && c.ok],
  ['MOVE (or COPY) a message into it', 'MOVE (atau COPY) surat ke folder itu', (c) => (c.verb === 'MOVE' || c.verb === 'COPY') && c.ok],
  // Deleting on an IMAP server takes two commands (RFC 3501 §6.4.6, §6.4.3): mark, then expunge.
  ['a message marked deleted (STORE … +FLAGS (\\Deleted))', 'surat ditandai terhapus (STORE … +FLAGS (\\Deleted))', (c) => c.verb === 'STORE' && /\+FLAGS(\.SILENT)?\s*\(?[^)]*\\Deleted/i.test(c.arg) && c.ok],
  ['EXPUNGE, which removes the marked message from the server', 'EXPUNGE, yang membuang surat bertanda itu dari server', (c) => c.verb === 'EXPUNGE' && c.ok],
];

export const imapFoldersSearch: Rule = (v, w) => {
  const byAccount = new Map<string, Session[]>();
  for (const s of imap(v)) byAccount.set(s.login!, [...(byAccount.get(s.login!) ?? []), s]);
  const score = (sessions: Session[]) => {
    const found = IMAP_STEPS.map(([name, nameId, ok]) => ({ name: w.t(name, nameId), hit: sessions.flatMap((s) => s.cmds.filter(ok).map((c) => ({ s, c }))).at(0) }));
    const created = found[1].hit;
    const second = created
      ? sessions.find((s) => s.start > created.s.start && s !== created.s && s.cmds.some((c) => ['LIST', 'LSUB', 'SELECT', 'EXAMINE', 'STATUS'].includes(c.verb) && c.ok))
      : undefined;
    return { found, second, n: found.filter((f) => f.hit).length + (second ? 1 : 0) };
  };
  const top = best([...byAccount.entries()].map(([account, sessions]) => ({ account, ...score(sessions) })), (x) => x.n);
  if (!top)
    return notYet([
      w.t(
        'an IMAP session (telnet localhost 10143): LOGIN, SEARCH, CREATE a folder, MOVE a message into it; then a second session that sees the folder and deletes a message (STORE +FLAGS (\\Deleted), EXPUNGE)',
        'sesi IMAP (telnet localhost 10143): LOGIN, SEARCH, CREATE sebuah folder, MOVE surat ke folder itu; lalu sesi kedua yang melihat folder itu dan menghapus surat (STORE +FLAGS (\\Deleted), EXPUNGE)',
      ),
    ]);
  const hits = top.found.filter((f) => f.hit).map((f) => w.t(`${f.hit!.c.line} at ${clock(f.hit!.s.start + f.hit!.c.at)}`, `${f.hit!.c.line} pukul ${clock(f.hit!.s.start + f.hit!.c.at)}`));
  const evidence = [w.t(`${top.account} over IMAP: ${hits.length ? w.and(hits) : 'logged in'}`, `${top.account} lewat IMAP: ${hits.length ? w.and(hits) : 'berhasil login'}`)];
  if (top.second) {
    const seen = w.lines(top.second.cmds.filter((c) => ['LIST', 'LSUB', 'SELECT', 'EXAMINE', 'STATUS', 'FETCH'].includes(c.verb)), 6);
    evidence.push(w.t(`a second session at ${clock(top.second.start)} saw the folders: ${seen}`, `sesi kedua pukul ${clock(top.second.start)} melihat folder-foldernya: ${seen}`));
  }
  const missing = [
    ...top.found.filter((f) => !f.hit).map((f) => f.name),
    ...(top.second ? [] : [w.t('a second session ("the phone") after the CREATE that sees the folder (LIST, EXAMINE)', 'sesi kedua ("HP") setelah CREATE yang melihat folder itu (LIST, EXAMINE)')]),
  ];
  return missing.length ? partly(evidence, missing) : done(evidence);
};

export const pop3VsImap: Rule = (v, w) => {
  const accounts = new Set([...imap(v), ...pop3(v)].map((s) => s.login).filter((x): x is string => !!x));
  const per = [...accounts].map((account) => {
    const reads = imap(v).filter((s) => s.login === account && s.cmds.some((c) => (c.verb === 'FETCH' || c.verb === 'SEARCH') && c.ok));
    const download = pop3(v).find((s) => s.login === account && deletedAtQuit(s) > 0 && (!reads[0] || s.start > reads[0].start));
    const before = download ? reads.filter((s) => s.start < download.start) : reads;
    return { account, reads: before, download, n: Math.min(before.length, 2) + (download ? 1 : 0) };
  });
  const top = best(per, (x) => x.n);
  if (!top || (!top.reads.length && !top.download))
    return notYet([w.t('one account read over IMAP from two clients (two sessions), then downloaded and deleted over POP3', 'satu akun dibaca lewat IMAP dari dua klien (dua sesi), lalu diunduh dan dihapus lewat POP3')]);
  const evidence: string[] = [];
  if (top.reads.length) {
    const times = top.reads.slice(0, 4).map((s) => clock(s.start)).join(', ');
    evidence.push(w.t(`${top.account} read over IMAP in ${w.plural(top.reads.length, 'session', 'sesi')} (${times})`, `${top.account} dibaca lewat IMAP dalam ${top.reads.length} sesi (${times})`));
  }
  if (top.download) {
    const quit = top.download.cmds.find((c) => c.verb === 'QUIT')!.reply;
    evidence.push(w.t(`then downloaded and deleted over POP3 at ${clock(top.download.start)}: ${quit}`, `lalu diunduh dan dihapus lewat POP3 pukul ${clock(top.download.start)}: ${quit}`));
  }
  const missing = [
    ...(top.reads.length >= 2
      ? []
      : [
          top.reads.length
            ? w.t('a second IMAP client (another session) reading the same mailbox', 'klien IMAP kedua (sesi lain) yang membaca kotak surat yang sama')
            : w.t('reading the mailbox over IMAP first (two clients)', 'membaca kotak surat lewat IMAP lebih dulu (dua klien)'),
        ]),
    ...(top.download ? [] : [w.t('a POP3 download that deletes (RETR, DELE, QUIT) after the IMAP reads', 'unduhan POP3 yang menghapus (RETR, DELE, QUIT) setelah dibaca lewat IMAP')]),
  ];
  return missing.length ? partly(evidence, missing) : done(evidence);
};

export const attachments: Rule = (v, w) => {
  const sent = v.sessions
    .filter((s) => s.protocol === 'smtp')
    .flatMap((s) => (s.messages ?? []).filter((m) => m.attachments).map((m) => ({ s, m, q: messageOf(v.records, s.domain, m.queueId) })));
  const mime = sent.find((x) => x.m.attachments!.mime > 0);
  const uu = sent.find((x) => x.m.attachments!.uuencode > 0);
  const readBack = (x: (typeof sent)[number] | undefined) => (x?.m.messageId ? v.records.reads.find((r) => r.messageId === x.m.messageId) : undefined);
  const told = (x: (typeof sent)[number], kind: string) => {
    const r = readBack(x);
    const to = x.q?.recipients.map((r) => r.address).join(', ');
    return w.t(
      `${kind} sent at ${clock(x.s.start)}${x.m.subject ? ` ("${x.m.subject}"` : ' ('}${to ? ` to ${to}` : ''}, queue ${x.m.queueId})${r ? `; read back over ${r.protocol.toUpperCase()} by ${r.user}@${r.domain} at ${clock(r.time)}` : ''}`,
      `${kind} dikirim pukul ${clock(x.s.start)}${x.m.subject ? ` ("${x.m.subject}"` : ' ('}${to ? ` ke ${to}` : ''}, antrian ${x.m.queueId})${r ? `; dibaca kembali lewat ${r.protocol.toUpperCase()} oleh ${r.user}@${r.domain} pukul ${clock(r.time)}` : ''}`,
    );
  };
  const evidence = [...(mime ? [told(mime, w.t('a MIME attachment', 'lampiran MIME'))] : []), ...(uu ? [told(uu, w.t('a uuencoded file', 'file ber-uuencode'))] : [])];
  const missing = [
    ...(mime ? [] : [w.t('a MIME attachment (mail-lab-client send --attach)', 'lampiran MIME (mail-lab-client send --attach)')]),
    ...(uu ? [] : [w.t('a uuencoded one (mail-lab-client send --attach … --uuencode)', 'lampiran ber-uuencode (mail-lab-client send --attach … --uuencode)')]),
    ...((mime && !readBack(mime)) || (uu && !readBack(uu)) ? [w.t('reading them back (mail-lab-client save-attachments, over POP3 or IMAP)', 'membacanya kembali (mail-lab-client save-attachments, lewat POP3 atau IMAP)')] : []),
  ];
  if (!evidence.length) return notYet([...missing, w.t('reading them back (mail-lab-client save-attachments)', 'membacanya kembali (mail-lab-client save-attachments)')]);
  return missing.length ? partly(evidence, missing) : done(evidence);
};
