/**
 * Shared helpers for the DNS tests: the default lab definition, a small
 * custom one, and a runner for the real `dig` whose output is parsed into
 * sections.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadLabConfig, parseLabConfig, type LabConfig } from '../../../services/core/src/config';

const run = promisify(execFile);

export function defaultLab(): LabConfig {
  return loadLabConfig(resolve(__dirname, '../../../lab-scenarios/lab.yaml')).config;
}

const PORTS = (n: number) => `{ smtp: ${n}025, submission: ${n}587, pop3: ${n}110, imap: ${n}143, admin: ${n}080 }`;

/**
 * A two-domain lab on 10.9.8.0/24: `example.test` has two MX hosts and no
 * records (unless `records` gives YAML list items for it); `other.test` has no mx.
 */
export function customLab(records: string[] = []): LabConfig {
  const recordsYaml = records.length ? '    records:\n' + records.map((r) => `      - ${r}\n`).join('') : '';
  const text = `
version: 1
profiles:
  classroom: { retryInterval: 30s, warnAfter: 2m, returnAfter: 10m }
dns: { address: 10.9.8.53, hostPort: 30053, ttl: 30 }
domains:
  - name: example.test
    mailHost: mail.example.test
    address: 10.9.8.10
    ports: ${PORTS(3)}
    mx:
      - { host: mail.example.test, preference: 10 }
      - { host: mail.other.test, preference: 20 }
    accounts: [{ user: a, password: x }]
${recordsYaml}  - name: other.test
    mailHost: mail.other.test
    address: 10.9.8.20
    ports: ${PORTS(4)}
    accounts: [{ user: b, password: y }]
`;
  return parseLabConfig(text, 'custom.yaml').config;
}

export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  raw: string;
}

/** Runs `dig @127.0.0.1 -p PORT ...args` and parses its output. */
export async function dig(port: number, ...args: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', ...args]);
  const result: DigResult = { status: '', flags: [], answer: [], authority: [], additional: [], raw: stdout };
  let section: 'answer' | 'authority' | 'additional' | undefined;
  for (const line of stdout.split('\n')) {
    const status = /status: (\w+)/.exec(line);
    if (status) result.status = status[1];
    const flags = /^;; flags: ([^;]*);/.exec(line);
    if (flags) result.flags = flags[1].trim().split(/\s+/);
    const head = /^;; (\w+) SECTION:/.exec(line);
    if (head) {
      const name = head[1].toLowerCase();
      section = name === 'answer' || name === 'authority' || name === 'additional' ? name : undefined;
      continue;
    }
    if (!line.trim()) {
      section = undefined;
      continue;
    }
    if (section && !line.startsWith(';')) {
      const [name, ttl, , type, ...data] = line.split(/\s+/);
      result[section].push({ name, ttl: Number(ttl), type, data: data.join(' ') });
    }
  }
  return result;
}
