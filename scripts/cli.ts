/**
 * `npx mail-lab …`: the lab's command line (the contract in docs/architecture.md).
 *
 *   up [--local] [--offline]     build the images and start the lab; returns when every service answers
 *   down [--volumes]             stop it
 *   status                       which services answer, which links are broken, queue sizes
 *   break <domain> <domain>      cut the path between two domains (heal restores it; = fault link)
 *   fault …                      the instructor's faults (commands/faults.ts)
 *   admin-token                  the lab's admin token, alone on a line
 *   events [domain|dns]          the lab's live events, until Ctrl-C (--json, --types)
 *   queue <domain> [--json]      the outbound queue, like mailq
 *   queue-profile <domain> [profile]   show or switch a domain's queue timings (no restart)
 *   flush <domain> [id]          retry now
 *   show|hold|release|delete|expire <domain> <id>   one queued message
 *   scenario <name> | --all      run scenarios from lab-scenarios/scenarios/
 *   check [account] | --all      which worksheet tasks a student did, from the servers' records (commands/check.ts)
 *   validate [file]              check a lab definition (no Docker needed)
 *   hash-password [password]     make a passwordHash for the lab definition
 *   ca [--out file]              the lab CA certificate (PEM) to trust for TLS
 *   web [--port 8080] [--bind …] the lab in the browser (commands/web.ts), until Ctrl-C
 *   reset [--mailboxes] [--queues] [--faults]   back to the class-start state (commands/reset.ts)
 *   seed [--worksheet …] [--to …] the mail the POP3/IMAP worksheets expect (commands/seed.ts)
 *   reload [--force] [--dry-run] a changed lab definition, without a restart (commands/reload.ts)
 *
 * Every command speaks English or Indonesian: `--lang en|id`, else MAIL_LAB_LANG, else LANG
 * (scripts/i18n/lang.ts); the words are in scripts/i18n/ and scripts/scenario/messages.ts.
 */
import { Command, Option } from 'commander';
import { join, relative } from 'node:path';
import { LabConfigError, formatProblem, requireDomain, type LabConfig } from '../services/core/src/config';
import { MAX_LAB } from '../services/core/src/labs';
import { formatDuration } from '../services/core/src/duration';
import { hashPassword } from '../services/core/src/password';
import { MAIL_API, type QueueProfileInfo } from '../services/core/src/admin/api';
import { AdminUnreachableError, isAdminCallError } from '../services/core/src/admin/client';
import { labTarget, type LabTarget } from './lab-target';
import { defaultLabFile, LabSelectionError, selectLab, type LabChoice, type SelectedLab } from './lab-select';
import { composeConfigPath, labDir } from './lab-files';
import { renderCompose } from './compose/render';
import { readFileSync, writeFileSync } from 'node:fs';
import { prepareStack, stackExists, swarmStatusLines } from './swarm/stack';
import { LabStartError, startLab, stopLab } from './lab-lifecycle';
import { LabNotReadyError, probeLab } from './readiness';
import { LabNotRunningError } from './admin-token';
import { collectTrace, formatTrace } from './trace';
import { faultStatusLines, registerFaultCommands, registerLinkVerbs } from './commands/faults';
import { linkStates } from './faults/list';
import { registerAdminTokenCommand } from './commands/admin-token';
import { registerEventsCommand } from './commands/events';
import { registerCaCommand } from './commands/ca';
import { registerClassCommands } from './commands/class';
import { registerWebCommand } from './commands/web';
import { registerResetCommands } from './commands/reset';
import { registerSeedCommands } from './commands/seed';
import { registerReloadCommands } from './commands/reload';
import { registerCheckCommands } from './commands/check';
import { registerGuideCommands } from './commands/guide';
import { pick } from './scenario/messages';
import { chooseLang, isUnknownLanguageError, type Lang } from './i18n/lang';
import { QUEUE_TEXT } from './i18n/queue-text';
import { translateErrorText } from './i18n/errors';
import { addK8sOptions, K8S_ADMIN_ONLY, k8sDownCommand, k8sEngineRequested, k8sStatusCommand, k8sUpCommand, registerK8sFaultCommands, renderK8sCommand, type K8sCliOptions } from './k8s/commands';

const out = (line = '') => process.stdout.write(line + '\n');
/** The scenario runner (and its steps' clients), loaded when `scenario` runs: ≈100 ms of every other command's start. */
const scenarioRunner = (): typeof import('./scenario/runner') => require('./scenario/runner');
// `npx mail-lab … | head`: a reader that stops early is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : undefined));

class UsageError extends Error {}

let language: Lang | undefined;
/** The language of this run (`--lang`, MAIL_LAB_LANG, LANG); an unknown one is a usage error. */
function lang(): Lang {
  if (!language) {
    try {
      language = chooseLang((program.opts() as { lang?: string }).lang, process.env);
    } catch (e) {
      throw isUnknownLanguageError(e) ? new UsageError(e.message) : e;
    }
  }
  return language;
}
/** The words of this run's language for the lab and queue commands. */
const words = () => QUEUE_TEXT[lang()];

/** `--engine k8s`: a lab on a Kubernetes cluster has its own up, down, status and network faults (scripts/k8s/commands.ts). */
const k8s = k8sEngineRequested();

let selection: SelectedLab | undefined;
/** The lab this command is about (`--lab`, `--config`), read and checked once. */
function selected(): SelectedLab {
  if (k8s) throw new UsageError(K8S_ADMIN_ONLY);
  if (!selection) {
    try {
      selection = selectLab(program.opts() as LabChoice);
    } catch (e) {
      if (e instanceof LabSelectionError) throw new UsageError(e.message);
      throw e;
    }
  }
  return selection;
}

/** Lab N of the lab definition: its addresses and host ports. */
const loadConfig = (): LabConfig => selected().config;

/** The running lab N as the CLI talks to it. */
function target(): LabTarget {
  const s = selected();
  return labTarget(s.config, undefined, { lab: s.n });
}

function domainArg(config: LabConfig, name: string): string {
  try {
    return requireDomain(config, name).name;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** An admin call whose "no such id" or bad argument is the user's mistake: exit 2 with the server's words. */
async function callOrUsage<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (isAdminCallError(e, 'unknown-queue-id') || isAdminCallError(e, 'bad-argument')) throw new UsageError(e.message);
    throw e;
  }
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd());
}

/** `retry every 10s, warn after 30s, return after 1m30s`. */
const timings = (p: Pick<QueueProfileInfo, 'retryInterval' | 'warnAfter' | 'returnAfter'>): string => words().timings(p);

/** `queue profile demo: retry every 10s, warn after 30s, return after 1m30s`. */
const profileLine = (p: QueueProfileInfo) => words().profile(p.name, timings(p));

const program = new Command();
program
  .name('mail-lab')
  .description('A containerized e-mail laboratory: DNS, two mail domains and a client.')
  .option('--lab <n>', `which lab of this host: 0 (the default) to ${MAX_LAB}; lab N has every host port + 100*N (also MAIL_LAB_LAB)`)
  .option('--config <file>', 'another lab definition (default lab-scenarios/lab.yaml; also MAIL_LAB_CONFIG)')
  .option('--engine <engine>', 'how the Docker lab runs: compose (the default) or swarm, a stack on the Docker Swarm this host belongs to; or k8s, a Kubernetes cluster (also MAIL_LAB_ENGINE; docs/cluster.md)')
  .option('--kubeconfig <file>', 'k8s: the kubeconfig of the cluster (default: $KUBECONFIG, else ~/.kube/config)')
  .option('--lang <lang>', 'language of the output and of the scenarios: en or id (default: $MAIL_LAB_LANG, else id when $LANG starts with id, else en)')
  .showHelpAfterError()
  // An unknown language is a usage error before any command runs.
  .hook('preAction', () => void lang());

program
  .command('validate')
  .argument('[file]', 'lab definition', undefined)
  .description('check a lab definition against its schema (no Docker needed)')
  .action((file?: string) => {
    const sel = file ? (() => {
      try {
        return selectLab({ ...(program.opts() as LabChoice), config: file });
      } catch (e) {
        throw e instanceof LabSelectionError ? new UsageError(e.message) : e;
      }
    })() : selected();
    const config = sel.base;
    const w = words();
    out(w.valid(relative(process.cwd(), sel.file) || sel.file));
    for (const d of config.domains) out(w.validDomain(d.name, d.accounts.length, Object.keys(d.aliases).length, d.mx.map((m) => `${m.preference} ${m.host}`).join(', '), d.relayDomains?.join(', ') ?? ''));
    out(w.validProfile(config.profile, timings(config.timing)));
  });

program
  .command('hash-password')
  .argument('[password]', 'the password (read from standard input when omitted)')
  .description('print a scrypt passwordHash for the lab definition')
  .action(async (password?: string) => {
    let pw = password;
    if (pw === undefined) {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      pw = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    }
    if (!pw) throw new UsageError(words().emptyPassword);
    out(await hashPassword(pw));
  });

addK8sOptions(program.command('up'))
  .description('build the images (offline when no registry is reachable) and start the lab')
  .option('--local', 'no Docker: start the services as plain Node processes on 127.0.0.1')
  .addOption(new Option('--offline', 'build the base image locally even if a registry is reachable'))
  .option('--no-build', 'do not build the images first')
  .option('--timeout <seconds>', 'how long to wait for every service to answer', '90')
  .action(async (opts: { local?: boolean; offline?: boolean; build: boolean; timeout: string } & K8sCliOptions) => {
    if (k8s) return k8sUpCommand(k8sHelpers, opts);
    const sel = selected();
    let r;
    try {
      r = await startLab(sel, { local: opts.local, build: opts.build, offline: opts.offline, timeoutMs: Number(opts.timeout) * 1000, log: out });
    } catch (e) {
      throw e instanceof LabStartError ? new UsageError(e.message) : e;
    }
    for (const line of table([words().upHeader, ...r.probes.map((p) => [p.service, p.target, p.detail])])) out('  ' + line);
    out(words().isUp(sel.n, opts.local ? 'local' : sel.engine === 'swarm' ? 'swarm' : 'docker', sel.project, (r.elapsedMs / 1000).toFixed(1), (r.totalMs / 1000).toFixed(1)));
  });

program
  .command('down')
  .description('stop the lab')
  .option('--volumes', 'also delete the mailboxes and queues')
  .action(async (opts: { volumes?: boolean }) => {
    if (k8s) return k8sDownCommand(k8sHelpers, opts);
    try {
      out(await stopLab(selected(), { volumes: opts.volumes, log: (l) => out('  ' + l) }));
    } catch (e) {
      throw e instanceof LabStartError ? new UsageError(e.message) : e;
    }
  });

program
  .command('status')
  .description('which services answer, which links are broken, queue sizes')
  .action(async () => {
    if (k8s) return k8sStatusCommand(k8sHelpers);
    const config = loadConfig();
    const t = target();
    const swarm = t.mode === 'docker' && (selected().engine === 'swarm' || (await stackExists(t.lab)));
    const w = words();
    out(w.mode(t.lab, t.mode === 'local' ? w.modeLocal : swarm ? w.modeSwarm(selected().project) : 'Docker'));
    if (swarm) for (const l of await swarmStatusLines(t.lab)) out(`  ${w.task(l)}`);
    const probes = await probeLab(config);
    for (const line of table([w.statusHeader, ...probes.map((p) => [p.service, p.target, p.ok ? w.up : w.down, p.detail])])) out('  ' + line);
    try {
      for (const l of await linkStates(t)) out(`  ${w.link(l.a, l.b, l.broken)}`);
    } catch (e) {
      out(`  ${w.linksUnknown(translateErrorText((e as Error).message, lang()))}`);
    }
    for (const l of await faultStatusLines(t)) out(`  ${translateErrorText(l, lang())}`);
    for (const d of config.domains) {
      try {
        const q = await t.mail(d.name).call(MAIL_API.queueSummary);
        const p = await t.mail(d.name).call(MAIL_API.queueProfile).catch(() => null);
        out(`  ${w.queueSize(d.name, q.size, p ? profileLine(p) : '')}`);
      } catch {
        out(`  ${w.queueUnreachable(d.name)}`);
      }
    }
    if (probes.some((p) => !p.ok)) process.exitCode = 1;
  });

program
  .command('queue')
  .argument('<domain>')
  .option('--json', 'machine-readable')
  .description("list a domain's outbound queue, like mailq")
  .action(async (domain: string, opts: { json?: boolean }) => {
    const config = loadConfig();
    const d = domainArg(config, domain);
    const lab = target();
    const q = await lab.mail(d).call(MAIL_API.queue);
    if (opts.json) {
      out(JSON.stringify(q, null, 2));
      return;
    }
    const p = await lab.mail(d).call(MAIL_API.queueProfile).catch(() => null);
    if (p) out(`${profileLine(p)}`);
    const w = words();
    if (!q.length) {
      out(w.queueEmpty(d));
      return;
    }
    const now = Date.now();
    const rows = [w.queueHeader];
    for (const e of q) {
      rows.push([
        e.id + (e.held ? '!' : ''),
        String(e.size),
        formatDuration(e.ageMs),
        e.from || '<>',
        e.recipients.filter((r) => r.status === 'pending').map((r) => r.address).join(','),
        String(e.attempts),
        e.nextAttempt ? w.inTime(formatDuration(Math.max(0, Date.parse(e.nextAttempt) - now))) : '-',
        e.lastError ?? '',
      ]);
    }
    for (const line of table(rows)) out(line);
    out(w.queueTotal(q.length, d));
  });

program
  .command('queue-profile')
  .argument('<domain>')
  .argument('[profile]', 'a profile of the lab definition (profiles: in lab.yaml); omit it to see the one in force')
  .option('--json', 'machine-readable')
  .description("show or switch a domain's queue timings at run time: retry interval, delay warning, return (no restart)")
  // Bad usage (missing domain, extra argument, unknown option) exits 2, like the other usage errors.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .action(async (domain: string, profile: string | undefined, opts: { json?: boolean }) => {
    const config = loadConfig();
    const d = domainArg(config, domain);
    const names = Object.keys(config.profiles);
    const w = words();
    if (profile !== undefined && !Object.hasOwn(config.profiles, profile)) throw new UsageError(w.unknownProfile(profile, names.join(', ')));
    const lab = target();
    if (profile === undefined) {
      const p = await lab.mail(d).call(MAIL_API.queueProfile);
      if (opts.json) {
        out(JSON.stringify(p, null, 2));
        return;
      }
      out(`${d}: ${profileLine(p)}`);
      out(w.profiles(p.available.join(', '), d));
      return;
    }
    let r;
    try {
      r = await lab.mail(d).call(MAIL_API.setQueueProfile, { name: profile });
    } catch (e) {
      // The server knows the profiles of the lab.yaml it started with, which may differ from this one.
      if (isAdminCallError(e, 'unknown-profile')) throw new UsageError(`${d}: ${e.message}`);
      throw e;
    }
    if (opts.json) {
      out(JSON.stringify(r, null, 2));
      return;
    }
    out(r.changed ? w.profileChanged(d, r.previous, r.profile.name, timings(r.profile)) : w.profileSame(d, r.profile.name));
    if (r.changed && r.queued) out(w.profileMoved(r.queued, r.rescheduled));
  });

program
  .command('show')
  .argument('<domain>')
  .argument('<id>', 'queue id (see `mail-lab queue <domain>`)')
  .option('--json', 'machine-readable')
  .description('one queued (or recently finished) message with its attempt history')
  .action(async (domain: string, id: string, opts: { json?: boolean }) => {
    const config = loadConfig();
    const d = domainArg(config, domain);
    const e = await callOrUsage(() => target().mail(d).call(MAIL_API.queueEntry, { id }));
    if (opts.json) {
      out(JSON.stringify(e, null, 2));
      return;
    }
    const w = words();
    out(w.entry(e.id, e.size, e.from || '<>', e.arrival, !!e.held));
    for (const r of e.recipients) out(w.recipient(r.address, r.status, r.attempts, r.nextAttempt, r.lastError));
    out(w.history);
    for (const h of e.history) {
      out(`    ${h.time}  ${w.result(h.result)} ${h.recipients.join(',')}  ${h.detail}`);
      if (h.mx) out(w.mx(h.mx.map((m) => `${m.priority} ${m.exchange}`).join(', '), h.host, h.tls));
    }
    if (!e.history.length) out(w.noAttempt);
  });

for (const [action, help] of [
  ['hold', 'stop delivery attempts of a queued message (like postsuper -h)'],
  ['release', 'let a held message go again, at once (like postsuper -H)'],
  ['delete', 'delete a queued message without telling anyone (like postsuper -d)'],
  ['expire', 'return a queued message to its sender now (like postsuper -e)'],
] as const) {
  program
    .command(action)
    .argument('<domain>')
    .argument('<id>', 'queue id (see `mail-lab queue <domain>`)')
    .description(help)
    .action(async (domain: string, id: string) => {
      const config = loadConfig();
      const d = domainArg(config, domain);
      const r = await callOrUsage(() => target().mail(d).call(MAIL_API.queueAction, { id, action }));
      out(words().actionResult(id, action, r.result));
    });
}

program
  .command('flush')
  .argument('<domain>')
  .argument('[id]', 'one message only')
  .description('retry queued mail now')
  .action(async (domain: string, id?: string) => {
    const config = loadConfig();
    const d = domainArg(config, domain);
    const r = await callOrUsage(() => target().mail(d).call(MAIL_API.flush, { id }));
    out(r.flushed.length ? words().flushed(r.flushed) : words().nothingToFlush(d));
  });

program
  .command('trace')
  .argument('<message-id>', 'the Message-ID header (with or without <>), or a queue id')
  .option('--json', 'machine-readable')
  .option('--brief', 'without the wire transcripts')
  .description("a message's whole path: submission, DNS answers, each SMTP hop, queue attempts, mailbox, who read it")
  .action(async (id: string, opts: { json?: boolean; brief?: boolean }) => {
    const config = loadConfig();
    const items = await collectTrace(target(), id);
    if (opts.json) {
      out(JSON.stringify(items, null, 2));
      return;
    }
    for (const line of formatTrace(id, items, !opts.brief, lang())) out(line);
    if (!items.length) process.exitCode = 1;
  });

program
  .command('scenario')
  .argument('[names...]', 'scenario names (see --list)')
  .option('--all', 'run every scenario')
  .option('--list', 'list the scenarios')
  .description('run self-checking scenarios against the running lab (in the language of --lang)')
  .action(async (names: string[], opts: { all?: boolean; list?: boolean }) => {
    const { runScenarios, listScenarios } = scenarioRunner();
    if (opts.list) {
      for (const s of listScenarios()) out(`${s.name.padEnd(24)} ${pick(s.title, lang())}`);
      return;
    }
    if (!opts.all && !names.length) throw new UsageError(words().nameScenario);
    const config = loadConfig();
    const ok = await runScenarios(target(), opts.all ? listScenarios().map((s) => s.name) : names, out, lang());
    if (!ok) process.exitCode = 1;
  });

addK8sOptions(program.command('render'))
  .argument('<what>', 'compose: the compose file of the lab (lab 0 of lab-scenarios/lab.yaml is the committed docker-compose.yml); swarm: its stack file for Docker Swarm; k8s: its Kubernetes manifests (docs/cluster.md)')
  .option('--out <file>', 'write it to a file instead of standard output (k8s: a directory, default .lab-data/k8s)')
  .option('--labs <n>', 'k8s: labs 1 to N instead of the one --lab')
  .description('render a lab from the lab definition (`render compose --lab 3`, `render k8s --labs 30`)')
  .action(async (what: string, opts: { out?: string; labs?: string } & K8sCliOptions) => {
    if (what === 'k8s') return renderK8sCommand(k8sHelpers, opts);
    const sel = selected();
    if (what === 'swarm') {
      const { file } = await prepareStack(sel);
      if (opts.out) writeFileSync(opts.out, readFileSync(file));
      else process.stdout.write(readFileSync(file));
      return;
    }
    if (what !== 'compose') throw new UsageError(words().renderWhat(what));
    const resolvConf = sel.n === 0 && sel.file === defaultLabFile() ? './docker/resolv.conf' : composeConfigPath(join(labDir(sel.n), 'resolv.conf'));
    const text = renderCompose(sel.base, sel.n, { configPath: composeConfigPath(sel.file), resolvConf });
    if (opts.out) writeFileSync(opts.out, text);
    else process.stdout.write(text);
  });

const helpers = { target, out, UsageError, lang };
const k8sHelpers = { out, UsageError, choice: () => program.opts() as LabChoice & { kubeconfig?: string } };
if (k8s) registerK8sFaultCommands(program, k8sHelpers);
else {
  registerLinkVerbs(program, helpers);
  registerFaultCommands(program, helpers);
}
registerAdminTokenCommand(program, helpers);
registerEventsCommand(program, helpers);
registerCaCommand(program, helpers);
registerClassCommands(program, { ...helpers, choice: () => program.opts() as LabChoice });
registerCheckCommands(program, { ...helpers, choice: () => program.opts() as LabChoice });
registerGuideCommands(program, { ...helpers, givenLang: () => (program.opts() as { lang?: string }).lang });
registerWebCommand(program, { ...helpers, choice: () => program.opts() as LabChoice });
// After `class`: each also adds `class reset|seed|reload`.
registerResetCommands(program, { ...helpers, choice: () => program.opts() as LabChoice });
registerSeedCommands(program, { ...helpers, choice: () => program.opts() as LabChoice });
registerReloadCommands(program, { ...helpers, choice: () => program.opts() as LabChoice });

program.parseAsync(process.argv).catch((e: Error) => {
  if (e instanceof LabConfigError) {
    // A broken lab definition or scenario file: every problem with its place, no stack trace.
    for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
    process.exit(2);
  }
  // Errors that say all there is to say: no stack trace.
  const said = e instanceof UsageError || e instanceof LabNotReadyError || e instanceof LabNotRunningError || isAdminCallError(e) || e instanceof AdminUnreachableError;
  // In the language of this run (scripts/i18n/errors.ts knows the other modules' sentences); a wrong language itself is said in both.
  let l: Lang = 'en';
  try {
    l = lang();
  } catch {
    // the usage error being reported
  }
  process.stderr.write(`mail-lab: ${said ? translateErrorText(e.message, l) : (e.stack ?? e.message)}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
