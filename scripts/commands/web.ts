/**
 * `npx mail-lab web [--port 8080] [--bind 127.0.0.1] [--labs 0,3-7]`: the
 * web pages (services/web) in the foreground until Ctrl-C. This is the CLI
 * side of the web server's lab source: the labs of this host (the numbered
 * labs with containers or no-Docker processes, and lab 0 when it runs), each
 * as lab N of the lab definition (`--config`) with the admin clients of
 * labTarget (the lab's token) and the student's name from the class roster.
 * The web server gets only this; it never reads the host itself.
 */
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { MAX_LAB } from '../../services/core/src/labs';
import { isLang } from '../../services/web/src/i18n';
import type { LabSource, WebLab } from '../../services/web/src/labs';
import { existingLabs } from '../class/labs';
import { loadRoster, studentOf } from '../class/roster';
import { LabSelectionError, selectLab, type LabChoice, type SelectedLab } from '../lab-select';
import { labTarget, runningLocalLab, type LabTarget } from '../lab-target';
import type { CommandHelpers } from './helpers';

const run = promisify(execFile);
/** The web server (Hono, the pages), loaded when `web` runs: ≈130 ms of every other command's start. */
const webServer = (): typeof import('../../services/web/src/server') => require('../../services/web/src/server');

export interface WebCommandHelpers extends CommandHelpers {
  /** The global options (`--config`; `--lab` is not used: the web pages show every lab). */
  choice: () => LabChoice;
}

/** `0,3-7,12` -> {0,3,4,5,6,7,12}; throws a message for anything else. */
export function parseLabList(text: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(part);
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || to < from || to > MAX_LAB) throw new Error(`--labs: "${part}" is not a lab number or range from 0 to ${MAX_LAB} (e.g. 0,3-7)`);
    for (let n = from; n <= to; n++) out.add(n);
  }
  if (!out.size) throw new Error('--labs: give lab numbers, e.g. 0,3-7');
  return out;
}

/** Lab 0 exists: its no-Docker processes run, or compose project `mail-lab` has containers. */
async function lab0Exists(): Promise<boolean> {
  if (runningLocalLab(0)) return true;
  try {
    const { stdout } = await run('docker', ['ps', '-a', '-q', '--filter', 'label=com.docker.compose.project=mail-lab'], { timeout: 15_000 });
    return stdout.trim() !== '';
  } catch {
    return false;
  }
}

/** The labs of this host, as the web server sees them (labs.ts). */
export function hostLabSource(o: { choice: LabChoice; only?: Set<number> }): LabSource {
  const selections = new Map<number, SelectedLab>();
  const targets = new Map<string, LabTarget>();
  let known: { at: number; labs: Promise<number[]> } | null = null;

  const numbers = (): Promise<number[]> => {
    if (known && Date.now() - known.at < 5000) return known.labs;
    const labs = (async () => {
      const [numbered, zero] = await Promise.all([existingLabs(), lab0Exists()]);
      return [...(zero ? [0] : []), ...numbered].filter((n) => !o.only || o.only.has(n));
    })();
    known = { at: Date.now(), labs };
    labs.catch(() => (known = null));
    return labs;
  };

  const webLab = (n: number): WebLab => {
    let sel = selections.get(n);
    if (!sel) selections.set(n, (sel = selectLab({ config: o.choice.config, lab: String(n) })));
    // A no-Docker lab started again has a new token: a new target (the Docker one reads its token again by itself).
    const key = `${n}:${runningLocalLab(n)?.startedAt ?? 'docker'}`;
    let t = targets.get(key);
    if (!t) targets.set(key, (t = labTarget(sel.config, undefined, { lab: n })));
    const target = t;
    return { n, config: sel.config, student: studentOf(loadRoster(), n), mode: target.mode, mail: (d) => target.mail(d), dns: () => target.dns() };
  };

  return {
    list: async () => (await numbers()).map(webLab),
    get: async (n) => ((await numbers()).includes(n) ? webLab(n) : null),
  };
}

/** The addresses of this computer on the LAN, for the students' URL. */
function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('172.'))
    .map((i) => i!.address);
}

export function registerWebCommand(program: Command, h: WebCommandHelpers): void {
  program
    .command('web')
    .option('--port <port>', 'the port of the web pages (browsers refuse 10080)', '8080')
    .option('--bind <address>', 'listen on this address: 127.0.0.1 (this computer only) or 0.0.0.0 (the classroom LAN); also MAIL_LAB_WEB_BIND')
    .option('--labs <list>', 'only these labs, e.g. 0,3-7 (default: every lab of this host)')
    .option('--lang <lang>', 'the language when the browser does not say: en or id (default: id when $LANG starts with id)')
    .description("the lab in the browser: the instructor's live class grid and topology, the students' pages; runs until Ctrl-C")
    .action(async (opts: { port: string; bind?: string; labs?: string; lang?: string }) => {
      const port = Number(opts.port);
      if (!/^\d+$/.test(opts.port) || port < 1 || port > 65535) throw new h.UsageError(`--port must be a port number from 1 to 65535 (got "${opts.port}")`);
      const host = opts.bind ?? process.env.MAIL_LAB_WEB_BIND ?? '127.0.0.1';
      const lang = opts.lang ?? (/^id/i.test(process.env.LANG ?? '') ? 'id' : 'en');
      if (!isLang(lang)) throw new h.UsageError(`--lang must be en or id (got "${lang}")`);
      let only: Set<number> | undefined;
      try {
        only = opts.labs === undefined ? undefined : parseLabList(opts.labs);
      } catch (e) {
        throw new h.UsageError((e as Error).message);
      }
      let definition: SelectedLab;
      try {
        definition = selectLab({ config: h.choice().config, lab: '0' });
      } catch (e) {
        throw e instanceof LabSelectionError ? new h.UsageError(e.message) : e;
      }
      const instructor = definition.base.instructor;
      let web;
      try {
        web = await webServer().startWebServer({ labs: hostLabSource({ choice: h.choice(), only }), instructor, port, host, defaultLang: lang });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new h.UsageError(`port ${port} on ${host} is already taken; choose another with --port`);
        if (code === 'EADDRNOTAVAIL') throw new h.UsageError(`--bind ${host}: this computer has no such address`);
        throw e;
      }
      h.out(`mail-lab web: ${web.url}/ (Ctrl-C stops)`);
      if (host === '0.0.0.0') for (const a of lanAddresses()) h.out(`  on the classroom LAN: http://${a}:${web.port}/`);
      h.out(instructor ? `  instructor login: ${instructor.user} (instructor: in ${definition.file})` : `  no instructor login: add instructor: { user, passwordHash } to ${definition.file}`);
      h.out(`  labs: ${only ? [...only].join(', ') : 'every lab of this host'}; students log in with their lab account`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await web.close();
      h.out('mail-lab web stopped');
    });
}
