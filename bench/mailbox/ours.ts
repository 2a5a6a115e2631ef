/**
 * Our mail domain as the benchmark runs it: `dist/services/mail-domain/src/
 * main.js` spawned exactly as `mail-lab up --local` spawns it, for one
 * domain, with a copy of lab-scenarios/lab.yaml whose ports for that domain
 * are free high ports on 127.0.0.1, data under the benchmark's /tmp
 * directory (the caller puts the INBOX mbox file there first) and the log
 * in a file there. Stopped by its PID (SIGTERM, SIGKILL after 8 s).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childStopper } from './stop-child';
import { parseDocument } from 'yaml';
import { serviceProcessEnv } from '../../scripts/local-lab';

export interface StartedOurs {
  imapPort: number;
  pop3Port: number;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface OursOptions {
  /** The repository's lab definition. */
  labYaml: string;
  /** The compiled tree (`dist/`). */
  distRoot: string;
  dir: string;
  domain: string;
  ports: { smtp: number; submission: number; pop3: number; imap: number; admin: number };
  /** Extra node arguments, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}

/** The data directory the domain will use: put `mail/<user>` there before `start`. */
export const oursDataDir = (dir: string) => join(dir, 'data');

export function startOurs(o: OursOptions): StartedOurs {
  const doc = parseDocument(readFileSync(o.labYaml, 'utf8'));
  const domains = (doc.get('domains') as { items: unknown[] }).items.length;
  let found = false;
  for (let i = 0; i < domains; i++) {
    if (doc.getIn(['domains', i, 'name']) !== o.domain) continue;
    found = true;
    for (const [name, port] of Object.entries(o.ports)) doc.setIn(['domains', i, 'ports', name], port);
  }
  if (!found) throw new Error(`${o.labYaml} has no domain ${o.domain}`);
  mkdirSync(o.dir, { recursive: true });
  const file = join(o.dir, 'lab.yaml');
  writeFileSync(file, `# mail-lab mailbox bench: ${o.labYaml} with ${o.domain} on free ports\n${doc.toString()}`);
  const logFile = join(o.dir, 'mail-domain.log');
  const out = openSync(logFile, 'a');
  // No TLS (MAIL_LAB_CA=off): Dovecot is measured in plain text too, and the TLS ports of lab.yaml may be taken by a running lab.
  // The process settings the lab's services run with (the Dockerfile's ENV, up --local).
  const env = { ...process.env, ...serviceProcessEnv(), MAIL_LAB_CONFIG: file, MAIL_LAB_MODE: 'local', MAIL_LAB_DOMAIN: o.domain, MAIL_LAB_DATA: oursDataDir(o.dir), MAIL_LAB_CA: 'off' };
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), join(o.distRoot, 'services/mail-domain/src/main.js')], { env, stdio: ['ignore', out, out] });
  closeSync(out);
  return {
    imapPort: o.ports.imap,
    pop3Port: o.ports.pop3,
    pid: child.pid ?? -1,
    logFile,
    stop: childStopper(child),
  };
}
