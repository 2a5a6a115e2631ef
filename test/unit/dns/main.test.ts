/**
 * The DNS container's entry point: environment, validation, start and stop.
 * process.exit is replaced so the test process survives.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../../services/dns/src/main';
import { dig } from './helpers';

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

describe('dns main', () => {
  let stderr: string[];
  let stdout: string[];
  beforeEach(() => {
    stderr = [];
    stdout = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
    jest.spyOn(process.stdout, 'write').mockImplementation((s) => (stdout.push(String(s)), true));
  });
  afterEach(() => jest.restoreAllMocks());

  it('prints every problem of an invalid definition and exits 1 without starting', async () => {
    jest.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Exit(code);
    }) as never);
    const dir = mkdtempSync(join(tmpdir(), 'dns-main-'));
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, 'version: 1\nprofiles: {}\ndns: { address: 300.1.1.1, hostPort: 10053 }\ndomains: []\n');
    await expect(main({ MAIL_LAB_CONFIG: file, MAIL_LAB_DNS_PORT: '0' })).rejects.toMatchObject({ code: 1 });
    const text = stderr.join('');
    expect(text).toContain(`${file}:3:`);
    expect(text).toMatch(/dns\.address: is not an IPv4 address/);
    expect(text).toMatch(/domains: /);
    expect(text).toMatch(/not a valid lab definition; not starting/);
    expect(stdout.join('')).not.toMatch(/ready/);
  });

  it('rejects an unknown mode', async () => {
    jest.spyOn(process, 'exit').mockImplementation(((code: number) => {
      throw new Exit(code);
    }) as never);
    await expect(main({ MAIL_LAB_MODE: 'cloud' })).rejects.toMatchObject({ code: 1 });
    expect(stderr.join('')).toMatch(/MAIL_LAB_MODE must be docker or local/);
  });

  it('starts, logs the port, answers, and stops on SIGTERM', async () => {
    const exited = new Promise<number>((done) => {
      jest.spyOn(process, 'exit').mockImplementation(((code: number) => done(code)) as never);
    });
    const before = { term: process.listeners('SIGTERM'), int: process.listeners('SIGINT') };
    const env = { MAIL_LAB_CONFIG: resolve(__dirname, '../../../lab-scenarios/lab.yaml'), MAIL_LAB_DNS_PORT: '0', MAIL_LAB_DNS_HOST: '127.0.0.1', MAIL_LAB_MODE: 'local', MAIL_LAB_LOG_FORMAT: 'json' };
    try {
      await main(env);
      // The log's lines of a turn of the event loop are written together at its end (core/src/logger.ts).
      await new Promise((r) => setImmediate(r));
      const lines = stdout.join('').split('\n').filter(Boolean);
      const ready = lines.map((l) => JSON.parse(l)).find((l) => /^dns ready on port \d+$/.test(l.msg));
      expect(ready).toMatchObject({ level: 'info', component: 'dns', mode: 'local' });
      const port = Number(/(\d+)$/.exec(ready.msg)![1]);
      expect((await dig(port, 'mail.dadali.com', 'A')).answer[0].data).toBe('127.0.0.1');
      process.emit('SIGTERM');
      await expect(exited).resolves.toBe(0);
    } finally {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        for (const l of process.listeners(sig)) if (!before[sig === 'SIGTERM' ? 'term' : 'int'].includes(l)) process.off(sig, l);
      }
    }
  });
});
