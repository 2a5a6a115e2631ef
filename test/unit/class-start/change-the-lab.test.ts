/**
 * The change-the-lab self-check on a lab in this process: it adds the
 * worksheet's account, alias and second MX by a reload, sees them work,
 * sends through the second MX while the primary's port 25 is down, and
 * leaves the lab as the definition file has it. Also: a run that fails half
 * way gets the lab definition (and the fault) put back.
 */
import { runScenario } from '../../../scripts/scenario/runner';
import { scenarioSchema } from '../../../scripts/scenario/schema';
import { listFaults } from '../../../scripts/faults/list';
import { runCollect } from '../scenario/run-collect';
import { startTestLab, type TestLab } from '../helpers/test-lab';
import { digMx, imap } from './helpers';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
}, 60_000);
afterAll(() => lab?.close());

test('change-the-lab passes in both languages and leaves the lab as lab.yaml has it', async () => {
  const { ok, text } = await runCollect(lab.target(), ['change-the-lab']);
  expect([ok, text]).toEqual([true, text]);
  expect(text).toContain('garudayaksa.com: account siswa6 added');
  expect(text).toContain('garudayaksa.com: MX 10 mail.garudayaksa.com -> 10 mail.garudayaksa.com, 20 mail.dadali.com');
  expect(text).toMatch(/Received: from mail\.dadali\.com .* by mail\.garudayaksa\.com /);
  expect(await digMx(lab, 'garudayaksa.com')).toEqual(['10 mail.garudayaksa.com.']);
  expect(await imap(lab, 'garudayaksa.com', 'siswa6', 'print("in")')).toMatch(/^LOGIN-FAILED/);
  const id = await runCollect(lab.target(), ['change-the-lab'], 'id');
  expect([id.ok, id.text]).toEqual([true, id.text]);
  expect(id.text).toContain('ubah definisi lab (1 account, 1 alias, 1 MX, 1 relayDomains) lalu muat ulang (npx mail-lab reload)');
}, 120_000);

test('a run that fails after the change gets the lab definition and the fault put back', async () => {
  const scenario = scenarioSchema.parse({
    name: 'change-then-fail',
    title: 'x',
    explain: 'x',
    steps: [
      { reload: { add: { 'garudayaksa.com': { mx: [{ host: 'mail.dadali.com', preference: 20 }] }, 'dadali.com': { relayDomains: ['garudayaksa.com'] } } } },
      { fault: { kind: 'server-down', args: ['garudayaksa.com'] } },
      { dns: { name: 'garudayaksa.com', type: 'MX', expect: ['no such answer'] } },
    ],
  });
  const lines: string[] = [];
  const r = await runScenario(lab.target(), scenario, (l) => lines.push(l));
  expect(r.ok).toBe(false);
  expect(lines.join('\n')).toMatch(/reload the lab definition file as it is/);
  expect(await digMx(lab, 'garudayaksa.com')).toEqual(['10 mail.garudayaksa.com.']);
  expect((await listFaults(lab.target())).faults).toEqual([]);
}, 60_000);
