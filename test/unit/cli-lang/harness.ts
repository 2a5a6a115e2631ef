/**
 * What the tests of the CLI's languages share: the built CLI run as a
 * process against a test lab (its lab.yaml with the test lab's ports, its
 * admin token, no language from the environment unless given).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_YAML, type TestLab } from '../helpers/test-lab';

export const CLI = join(__dirname, '../../../bin/mail-lab.js');

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** The built CLI with `labFile` as its lab definition and `lab`'s token; no language from the environment unless `env` gives one. */
export function runCli(lab: TestLab, labFile: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const e: NodeJS.ProcessEnv = { ...process.env, MAIL_LAB_CONFIG: labFile, MAIL_LAB_ADMIN_TOKEN: lab.adminToken, MAIL_LAB_LAB: '', LANG: 'C.UTF-8', ...env };
  if (!('MAIL_LAB_LANG' in env)) delete e.MAIL_LAB_LANG;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: e }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** lab-scenarios/lab.yaml with the test lab's host ports, for the CLI's MAIL_LAB_CONFIG. */
export function labYamlOf(lab: TestLab): string {
  let text = readFileSync(LAB_YAML, 'utf8');
  for (const d of lab.config.domains) {
    const ports = Object.entries(d.ports)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    text = text.replace(new RegExp(`(- name: ${d.name.replace('.', '\\.')}\\n(?:.*\\n)*?    ports: )\\{[^}]*\\}`), `$1{ ${ports} }`);
  }
  return text.replace(/^( {2}hostPort: )\d+/m, `$1${lab.config.dns.hostPort}`).replace(/^( {2}adminPort: )\d+/m, `$1${lab.config.dns.adminPort}`);
}
