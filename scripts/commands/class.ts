/**
 * `npx mail-lab class …`: a lab for every student on one host (issue 11).
 *
 *   class up --count N [--roster FILE]   labs 1 … N (running ones are kept), one per student
 *   class status                         one line per lab: services, links, faults, queues
 *   class down [--volumes]               stop every numbered lab, also half-started ones
 *   class run <scenario…> [--lang id]    the same scenarios in every lab: a line per lab, a total (--lang is the CLI's)
 *   class cards [--out DIR]              a card per student (Markdown and HTML) to print
 *
 * Every lab is lab N of the same lab definition (`--config`), with its own
 * ports (+100·N), network, volumes, CA and token (services/core/src/labs.ts).
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { MAIL_API } from '../../services/core/src/admin/api';
import { MAX_LAB } from '../../services/core/src/labs';
import { verifyPassword } from '../../services/core/src/password';
import { studentAccounts } from '../../services/core/src/config';
import { buildImages, repoRoot } from '../lab-docker';
import { prepareComposeLab } from '../lab-files';
import { LabStartError, startLab, stopLab } from '../lab-lifecycle';
import { LabSelectionError, selectLab, type LabChoice, type SelectedLab } from '../lab-select';
import { labTarget, type LabTarget } from '../lab-target';
import { probeLab } from '../readiness';
import { faultLines, linkStates, listFaults } from '../faults/list';
import { cardsHtml, cardsMarkdown, type Card } from '../class/cards';
import { existingLabs, inPool } from '../class/labs';
import { loadRoster, RosterError, rosterFromFile, saveRoster, studentOf, type RosterEntry } from '../class/roster';
import { readLabCa } from './ca';
import type { CommandHelpers } from './helpers';

/** The scenario runner, loaded when a class runs scenarios: ≈100 ms of every other command's start. */
const scenarioRunner = (): typeof import('../scenario/runner') => require('../scenario/runner');

export interface ClassCommandHelpers extends CommandHelpers {
  /** `--lab` and `--config` as given (class commands take the definition, not a lab number). */
  choice: () => LabChoice;
}

/** The password every account of the shipped lab definition has (its comment says so). */
const DEFAULT_PASSWORD = 'rahasia123';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const pad2 = (n: number) => String(n).padStart(2, '0');

/** The teacher's address on the classroom LAN (the first non-loopback IPv4), for the cards. */
function lanAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('172.')) return a.address;
  return null;
}

export function registerClassCommands(program: Command, h: ClassCommandHelpers): void {
  const lab = (n: number): SelectedLab => {
    try {
      return selectLab({ ...h.choice(), lab: String(n) }, () => undefined);
    } catch (e) {
      throw e instanceof LabSelectionError ? new h.UsageError(e.message) : e;
    }
  };
  const targetOf = (sel: SelectedLab): LabTarget => labTarget(sel.config, undefined, { lab: sel.n });
  const label = (roster: RosterEntry[], n: number) => `lab ${pad2(n)}${studentOf(roster, n) ? ` (${studentOf(roster, n)})` : ''}`;

  const cls = program.command('class').description('a lab for every student on this host: class up|status|down|run|cards');

  cls
    .command('up')
    .option('--count <n>', `how many labs (1 to ${MAX_LAB}); with --roster, one per student when left out`)
    .option('--roster <file>', 'the students, one name per line (or CSV, name first); lab 1 is the first name')
    .option('--no-build', 'do not build the image first')
    .option('--local', 'no Docker: every lab as plain Node processes')
    .option('--parallel <n>', 'labs started at once', '3')
    .description('start labs 1 … N, one per student (labs that already run are kept); each answers on its own ports (+100 per lab)')
    .action(async (opts: { count?: string; roster?: string; build: boolean; local?: boolean; parallel: string }) => {
      let roster: RosterEntry[] = [];
      let count: number;
      try {
        const c = opts.count === undefined ? undefined : Number(opts.count);
        if (c !== undefined && !(Number.isInteger(c) && c >= 1 && c <= MAX_LAB)) throw new RosterError(`--count must be a number of labs from 1 to ${MAX_LAB} (got "${opts.count}")`);
        if (opts.roster) roster = rosterFromFile(opts.roster, c);
        if (c === undefined && !opts.roster) throw new RosterError('say how many labs: --count N, or --roster FILE for one lab per student');
        count = c ?? roster.length;
      } catch (e) {
        throw e instanceof RosterError ? new h.UsageError(e.message) : e;
      }
      const labs = Array.from({ length: count }, (_, i) => lab(i + 1));
      if (opts.roster) saveRoster(roster);
      const t0 = Date.now();
      if (opts.build && !opts.local) {
        h.out('building the image (once for every lab)');
        await buildImages({ offline: 'auto', log: (l) => h.out('  ' + l), lab: prepareComposeLab(labs[0].base, 1, labs[0].file) });
      }
      let done = 0;
      const results = await inPool(labs, Math.max(1, Number(opts.parallel) || 3), async (sel) => {
        const lines: string[] = [];
        try {
          const r = await startLab(sel, { local: opts.local, build: false, timeoutMs: 120_000, log: (l) => lines.push(l) });
          h.out(`[${++done}/${count}] ${label(roster, sel.n)}: up, every service answered ${seconds(r.elapsedMs)} after start (SMTP ${sel.config.domains[0].ports.smtp}, ${sel.config.domains[1]?.ports.smtp ?? ''})`);
          return true;
        } catch (e) {
          h.out(`[${++done}/${count}] ${label(roster, sel.n)}: NOT started: ${(e as Error).message.split('\n')[0]}`);
          if (!(e instanceof LabStartError)) for (const l of lines.slice(-5)) h.out(`    ${l}`);
          return false;
        }
      });
      const failed = results.filter((ok) => !ok).length;
      h.out(`class up: ${count - failed} of ${count} labs answering, ${seconds(Date.now() - t0)} in all${failed ? `; ${failed} NOT started (see above; the others are left running)` : ''}`);
      if (failed) process.exitCode = 1;
    });

  cls
    .command('status')
    .description('one line per lab: services up, links, faults, queue sizes')
    .action(async () => {
      const roster = loadRoster();
      const labs = [...new Set([...(await existingLabs()), ...roster.map((r) => r.lab)])].sort((a, b) => a - b);
      if (!labs.length) {
        h.out('no numbered labs on this host (start them with `npx mail-lab class up --count N`)');
        return;
      }
      let allUp = true;
      const lines = await inPool(labs, 6, async (n) => {
        const sel = lab(n);
        const probes = await probeLab(sel.config, 1500);
        const up = probes.filter((p) => p.ok).length;
        if (up < probes.length) allUp = false;
        if (!up) return `${label(roster, n).padEnd(28)} DOWN (0/${probes.length} services answer)`;
        const t = targetOf(sel);
        const links = await linkStates(t).then((ls) => ls.map((l) => (l.broken ? 'BROKEN' : 'ok')).join(','), () => '?');
        const faults = await listFaults(t).then((f) => (f.faults.length ? faultLines(f).join('; ') : 'none'), () => '?');
        const queues = await Promise.all(sel.config.domains.map((d) => t.mail(d.name).call(MAIL_API.queueSummary).then((q) => String(q.size), () => '?')));
        return `${label(roster, n).padEnd(28)} services ${up}/${probes.length}  links ${links}  queues ${queues.join('/')}  faults ${faults}`;
      });
      for (const l of lines) h.out(l);
      if (!allUp) process.exitCode = 1;
    });

  cls
    .command('down')
    .option('--volumes', "also delete every lab's mailboxes, queues, CA and token")
    .description('stop every numbered lab of this host (also labs that are only half up)')
    .action(async (opts: { volumes?: boolean }) => {
      const labs = await existingLabs();
      if (!labs.length) {
        h.out('no numbered labs on this host; nothing to stop');
        return;
      }
      let failed = 0;
      await inPool(labs, 3, async (n) => {
        try {
          await stopLab(lab(n), { volumes: opts.volumes, log: () => undefined });
          h.out(`lab ${pad2(n)} stopped${opts.volumes ? ' (its data deleted)' : ''}`);
        } catch (e) {
          failed++;
          h.out(`lab ${pad2(n)}: could not stop: ${(e as Error).message.split('\n')[0]}`);
        }
      });
      h.out(`class down: ${labs.length - failed} of ${labs.length} labs stopped`);
      if (failed) process.exitCode = 1;
    });

  cls
    .command('run')
    .argument('<scenarios...>', 'scenario names (see `npx mail-lab scenario --list`)')
    .option('--parallel <n>', 'labs at once', '3')
    .description('run the same scenarios in every running lab: a summary line per lab and a total (logs in .lab-data/class/runs/)')
    .action(async (names: string[], opts: { parallel: string }) => {
      const roster = loadRoster();
      const labs = await existingLabs();
      if (!labs.length) throw new h.UsageError('no numbered labs on this host (start them with `npx mail-lab class up --count N`)');
      const lang = h.lang();
      const dir = join(repoRoot(), '.lab-data', 'class', 'runs', new Date().toISOString().replace(/[:.]/g, '-'));
      mkdirSync(dir, { recursive: true });
      const t0 = Date.now();
      const results = await inPool(labs, Math.max(1, Number(opts.parallel) || 3), async (n) => {
        const lines: string[] = [];
        const t = Date.now();
        let ok = false;
        try {
          ok = await scenarioRunner().runScenarios(targetOf(lab(n)), names, (l) => lines.push(l), lang);
        } catch (e) {
          lines.push(`error: ${(e as Error).message}`);
        }
        writeFileSync(join(dir, `lab-${pad2(n)}.log`), lines.join('\n') + '\n');
        const summary = lines.reverse().find((l) => /^scenarios: \d+ passed/.test(l)) ?? 'scenarios: did not finish';
        h.out(`${label(roster, n).padEnd(28)} ${summary.replace(/ \(.*\)$/, '')} (${seconds(Date.now() - t)})${ok ? '' : ` FAILED, see ${join(dir, `lab-${pad2(n)}.log`)}`}`);
        return ok;
      });
      const passed = results.filter(Boolean).length;
      h.out(`class run: ${passed} of ${labs.length} labs passed ${names.join(', ')} (${seconds(Date.now() - t0)})`);
      if (passed < labs.length) process.exitCode = 1;
    });

  cls
    .command('cards')
    .option('--out <dir>', "where to write cards.md, cards.html and each lab's CA certificate", join(repoRoot(), '.lab-data', 'class', 'cards'))
    .option('--host <address>', "the address students type (default: this machine's LAN address)")
    .option('--shared', 'one lab for the whole class (--lab N, default 0): a card per generated student account (students: in lab.yaml) with its password')
    .option('--new-passwords', 'with --shared: make new passwords for every student account (the old ones stop working)')
    .description('a printable card per student: lab number, ports, accounts and passwords, how to trust the lab CA (Markdown and HTML)')
    .action(async (opts: { out: string; host?: string; shared?: boolean; newPasswords?: boolean }) => {
      mkdirSync(opts.out, { recursive: true });
      const host = opts.host ?? lanAddress() ?? '127.0.0.1';
      const cards = opts.shared ? await sharedCards(opts, host) : await labCards(opts, host);
      writeFileSync(join(opts.out, 'cards.md'), cardsMarkdown(cards));
      writeFileSync(join(opts.out, 'cards.html'), cardsHtml(cards));
      h.out(`${cards.length} card(s) in ${opts.out}: cards.md, cards.html${cards.some((c) => c.ca) ? ', and the lab CA certificate(s) (ca-lab-NN.crt)' : ''}; students type ${host}`);
      if (!process.env.MAIL_LAB_BIND) h.out('note: students on the LAN reach the labs only when they were started with MAIL_LAB_BIND=0.0.0.0 (otherwise on this machine only)');
    });

  /** The lab's CA beside the cards, with its fingerprint (undefined when the lab does not run). */
  const caFile = async (sel: SelectedLab, dir: string): Promise<Card['ca']> => {
    try {
      const r = await readLabCa(targetOf(sel));
      const file = `ca-lab-${pad2(sel.n)}.crt`;
      writeFileSync(join(dir, file), r.pem);
      return { file, fingerprint: new X509Certificate(r.pem).fingerprint256 };
    } catch {
      return undefined;
    }
  };

  /** A card per lab of the class (the roster's names). */
  async function labCards(opts: { out: string }, host: string): Promise<Card[]> {
    const roster = loadRoster();
    const labs = [...new Set([...roster.map((r) => r.lab), ...(await existingLabs())])].sort((a, b) => a - b);
    if (!labs.length) throw new h.UsageError('no class yet: `npx mail-lab class up --roster FILE` (or --count N) first');
    // The passwords in the clear are not in the definition (only hashes): the cards show the lab's shared default where it matches.
    const base = lab(labs[0]).config;
    const accounts = await Promise.all(
      base.domains.flatMap((d) =>
        d.accounts.map(async (a) => {
          let password: string | null = a.password ?? null;
          if (!password && a.passwordHash && (await verifyPassword(DEFAULT_PASSWORD, a.passwordHash))) password = DEFAULT_PASSWORD;
          return { address: `${a.user}@${d.name}`, name: a.name, password };
        }),
      ),
    );
    return inPool(labs, 4, async (n) => {
      const sel = lab(n);
      return { lab: n, student: studentOf(roster, n), config: sel.config, host, accounts, ca: await caFile(sel, opts.out) };
    });
  }

  /** A card per generated student account of one shared lab, with the passwords the servers hand out once. */
  async function sharedCards(opts: { out: string; newPasswords?: boolean }, host: string): Promise<Card[]> {
    const sel = lab(Number((h.choice().lab ?? process.env.MAIL_LAB_LAB) || 0));
    const numbers = Math.max(0, ...sel.config.domains.map((d) => studentAccounts(d).length));
    if (!numbers) throw new h.UsageError(`${sel.file} has no generated student accounts: add \`students: { prefix: siswa, count: 30 }\` to each domain (see the comment in lab.yaml)`);
    const t = targetOf(sel);
    const byDomain = await Promise.all(sel.config.domains.map((d) => t.mail(d.name).call(MAIL_API.studentPasswords, { renew: !!opts.newPasswords })));
    const roster = loadRoster();
    const ca = await caFile(sel, opts.out);
    const cards: Card[] = [];
    let printedBefore = 0;
    for (let i = 0; i < numbers; i++) {
      const accounts = byDomain.flatMap((r) => (r.accounts[i] ? [r.accounts[i]] : [])).map((a) => ({ address: a.address, name: a.name, password: a.password }));
      if (accounts.some((a) => a.password === null)) printedBefore++;
      cards.push({ lab: sel.n, shared: true, title: accounts[0].address.split('@')[0], student: roster[i]?.name, config: sel.config, host, accounts, ca });
    }
    if (printedBefore) h.out(`${printedBefore} card(s) without passwords: they were printed before (\`--new-passwords\` makes new ones; the old ones stop working)`);
    return cards;
  }
}
