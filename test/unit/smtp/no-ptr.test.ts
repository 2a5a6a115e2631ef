/**
 * A client whose address has no PTR record in the lab DNS (in Docker every
 * connection from the host comes from the network's gateway, which has none):
 * the session goes on, the Received line says "unknown [address]" as Postfix does, and the
 * server's log says nothing alarming about it (smtp-server logged an `error`
 * line "Reverse resolve ... ENOTFOUND" for every such connection). A real
 * client, swaks, from a loopback address of its own.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startTestLab, type TestLab } from '../helpers/test-lab';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
});
afterAll(() => lab.close());

const swaks = (args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile('swaks', args, { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }));
  });

test("mail from an address without a PTR record is accepted, named 'unknown [address]' in its Received line, and logged without an error", async () => {
  const g = lab.config.domains[0];
  const subject = `no-ptr ${Date.now()}`;
  const r = await swaks(['--server', '127.0.0.1', '--port', String(g.ports.smtp), '--local-interface', '127.0.0.9', '--from', 'tamu@dadali.com', '--to', `siswa1@${g.name}`, '--header', `Subject: ${subject}`, '--body', 'tanpa PTR']);
  expect(r.out).toMatch(/<- {2}250 2\.6\.0 Ok: queued as/);
  expect(r.code).toBe(0);
  const mbox = join(lab.dataDir, g.name, 'mail', 'siswa1');
  const text = await eventually('delivered', () => {
    const t = readFileSync(mbox, 'latin1');
    return t.includes(subject) ? t : null;
  });
  const message = text.slice(Math.max(0, text.lastIndexOf('\nFrom ', text.indexOf(subject))));
  expect(message).toMatch(/^Received: from \S+ \(unknown \[127\.0\.0\.9\]\)/m);
  const about = lab.lines.filter((l) => l.includes('127.0.0.9'));
  expect(about.length).toBeGreaterThan(0);
  expect(about.filter((l) => / error /.test(l) || /Reverse resolve/.test(l))).toEqual([]);
});
