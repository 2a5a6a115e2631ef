/**
 * `npx mail-lab reload [--config FILE] [--force] [--dry-run]`: a changed lab
 * definition taken by the running lab without a restart, through each
 * service's admin API (`POST /lab/reload` with the definition's text): the
 * same in a Docker and a no-Docker lab, whatever the containers mounted or
 * copied at start (Docker mounts the host's file read-only; Swarm gives a
 * config that cannot change; the image has its own copy), and only in this lab.
 *
 * 1. The text is checked here first: every problem with its file, line and
 *    column, and nothing is sent.
 * 2. A dry run on every service (the lab DNS, then each domain): each
 *    compares it with the definition it runs (services/core/src/reload/
 *    plan.ts). A change that needs a restart (ports, domains, the network,
 *    limits…) is refused with the reason; an account removed while it still
 *    has mail is refused unless `--force`.
 * 3. Then the DNS takes it (MX and records served from the next query), then
 *    each domain (accounts, aliases, backup MX, queue profiles). Nothing is
 *    restarted: mail being sent, queued or read goes on; the CA stays.
 */
import type { ReloadAnswer } from '../../services/core/src/admin/api';
import { DNS_API, MAIL_API } from '../../services/core/src/admin/api';
import type { AdminClient } from '../../services/core/src/admin/client';
import { formatProblem, LabConfigError, parseLabConfig, type LabConfig } from '../../services/core/src/config';
import { deriveLab } from '../../services/core/src/labs';
import type { LabTarget } from '../lab-target';

export interface ReloadOptions {
  force?: boolean;
  /** Only say what would change. */
  dryRun?: boolean;
}

export interface ReloadOutcome {
  /** 0 taken (or nothing to take), 1 a service failed half-way, 2 refused (bad definition, restart needed, mail). */
  exit: 0 | 1 | 2;
  lines: string[];
  /** Changes taken (0 when refused or nothing changed). */
  changes: string[];
  /** Wall time of the applying step (every service in turn), ms. */
  applyMs?: number;
  answers: ReloadAnswer[];
}

const unique = (xs: string[]) => [...new Set(xs)];

/**
 * Reloads `text` (the definition read from `file`) into the running lab number `n`, reached
 * through `targetOf(lab N of the new definition)` (the CLI: its ports; a test lab: its own).
 */
export async function reloadLab(n: number, targetOf: (placed: LabConfig) => LabTarget, text: string, file: string, o: ReloadOptions = {}): Promise<ReloadOutcome> {
  const lines: string[] = [];
  const refuse = (why: string[]): ReloadOutcome => ({ exit: 2, lines: [...lines, ...why, 'nothing was changed: the running lab is as it was'], changes: [], answers: [] });
  // 1. The definition itself, checked before anything is sent.
  let t: LabTarget;
  try {
    const { config, warnings } = parseLabConfig(text, file);
    for (const w of warnings) lines.push(formatProblem(w));
    t = targetOf(deriveLab(config, n));
  } catch (e) {
    if (e instanceof LabConfigError) {
      const errors = e.problems.filter((p) => p.severity === 'error');
      return refuse([...e.problems.map(formatProblem), `${file}: ${errors.length} problem(s)`]);
    }
    return refuse([(e as Error).message]);
  }
  const dns = t.dns();
  const domains = t.config.domains.map((d) => ({ name: d.name, client: t.mail(d.name) }));
  const call = (c: AdminClient, isDns: boolean, dryRun: boolean) => (isDns ? c.call(DNS_API.reload, { text, file, dryRun, force: !!o.force }) : c.call(MAIL_API.reload, { text, file, dryRun, force: !!o.force }));

  // 2. Every service checks it against what it runs; the DNS first (it sees domains added or removed).
  const dnsCheck = await call(dns, true, true);
  const problems = dnsCheck.problems;
  if (problems.length) return refuse([...problems.map(formatProblem), `the lab DNS finds ${problems.length} problem(s) in ${file}`]);
  if (dnsCheck.needsRestart.length) return refuse(['these changes need a restart (`npx mail-lab down`, then `up`):', ...dnsCheck.needsRestart.map((r) => `  ${r}`)]);
  const checks = [dnsCheck];
  for (const d of domains) checks.push(await call(d.client, false, true));
  const restart = unique(checks.flatMap((c) => c.needsRestart));
  if (restart.length) return refuse(['these changes need a restart (`npx mail-lab down`, then `up`):', ...restart.map((r) => `  ${r}`)]);
  const changes = unique(checks.flatMap((c) => c.changes));
  const withMail = checks.flatMap((c) => c.withMail.map((m) => ({ service: c.service, ...m })));
  if (!changes.length) return { exit: 0, lines: [...lines, `${file}: the lab already runs this definition; nothing to change`], changes: [], answers: checks };
  lines.push(...changes);
  if (withMail.length && !o.force) {
    return refuse([
      ...withMail.map((m) => `${m.user}@${m.service} still has mail (${m.messages} message(s) in its folders, ${m.queued} waiting in the queue): not removed`),
      'empty it first (POP3, IMAP, or `npx mail-lab reset --mailboxes`), or give --force: the account goes, its mailbox files stay on disk',
    ]);
  }
  if (o.dryRun) return { exit: 0, lines: [...lines, 'dry run: nothing was changed'], changes, answers: checks };

  // 3. Taken: the DNS, then each domain.
  const answers: ReloadAnswer[] = [];
  const t0 = performance.now();
  for (const [i, s] of [{ name: 'the lab DNS', client: dns }, ...domains].entries()) {
    try {
      const a = await call(s.client, i === 0, false);
      answers.push(a);
      if (!a.applied) return { exit: 1, lines: [...lines, `${s.name} did not take it (${[...a.needsRestart, ...a.problems.map(formatProblem)].join('; ') || 'refused'}); ${answers.filter((x) => x.applied).map((x) => x.service).join(', ') || 'no service'} did: run \`npx mail-lab reload\` again`], changes, answers };
    } catch (e) {
      return { exit: 1, lines: [...lines, `${s.name} failed: ${(e as Error).message}; ${answers.map((x) => x.service).join(', ') || 'no service'} took the new definition, the others did not: run \`npx mail-lab reload\` again`], changes, answers };
    }
  }
  const applyMs = Math.round(performance.now() - t0);
  lines.push(`taken in ${applyMs} ms without a restart (${answers.map((a) => `${a.service} ${a.ms} ms`).join(', ')}); mail, queues and the lab CA are as they were`);
  for (const m of answers.flatMap((a) => a.withMail.map((w) => ({ service: a.service, ...w })))) {
    const where = t.mode === 'docker' ? `${m.paths.join(', ')} in the container ${t.container(m.service)}` : m.paths.join(', ');
    lines.push(`${m.user}@${m.service} removed; its mailbox stays on disk: ${where || '(its folders)'}${m.queued ? `; ${m.queued} message(s) queued for it will bounce` : ''}. Add the account again to get it back`);
  }
  const kept = answers.find((a) => a.kept?.path)?.kept?.path;
  const notKept = answers.filter((a) => a.kept?.error);
  if (kept) lines.push(`kept for a restart: ${kept}${t.mode === 'docker' ? ' (in the lab-admin volume)' : ''}, used when a service starts again, until the definition file the lab was started with changes`);
  for (const a of notKept) lines.push(`${a.service} cannot keep it for a restart (${a.kept!.error}): after a restart it reads the file it was started with`);
  return { exit: 0, lines, changes, applyMs, answers };
}
