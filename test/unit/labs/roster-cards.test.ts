/**
 * The class roster (names with spaces and apostrophes, CSV with quotes;
 * duplicates and empty names refused with their lines; more students than
 * labs refused), the students' cards (a name with markup shown as text in
 * the HTML), and the rule that the self-check scenarios use accounts of
 * their own, never a generated student account.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLabConfig, studentAccounts } from '../../../services/core/src/config';
import { deriveLab } from '../../../services/core/src/labs';
import { cardsHtml, cardsMarkdown } from '../../../scripts/class/cards';
import { csvFields, parseRoster, rosterFromFile } from '../../../scripts/class/roster';
import { loadScenario } from '../../../scripts/scenario/runner';

const root = join(__dirname, '../../..');
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'mail-lab-roster-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a text roster: a name per line, spaces and apostrophes kept, comments and blank lines skipped; labs 1, 2, …', () => {
  const file = join(dir, 'kelas.txt');
  writeFileSync(file, "# XI TKJ 2\nSiti Nur'aini\n\n  I Gusti Ayu   Putri \nMuhammad Rizky\n");
  expect(rosterFromFile(file)).toEqual([
    { lab: 1, name: "Siti Nur'aini" },
    { lab: 2, name: 'I Gusti Ayu Putri' },
    { lab: 3, name: 'Muhammad Rizky' },
  ]);
});

test('a CSV roster: header skipped, quotes, commas inside a name, semicolons as Excel writes them', () => {
  expect(csvFields('"Nur, Siti";XI TKJ')).toEqual(['Nur, Siti', 'XI TKJ']);
  expect(parseRoster('nama,kelas\n"Putu ""Ayu"" Dewi",XI\nBudi,XI\n', 'r.csv').map((e) => e.name)).toEqual(['Putu "Ayu" Dewi', 'Budi']);
});

test('duplicates and empty names are refused with their lines; more students than labs too', () => {
  expect(() => parseRoster('Ani\nBudi\nani\n', 'kelas.txt')).toThrow('kelas.txt:3: "ani" is already on line 1');
  expect(() => parseRoster('nama\nAni\n,XI\n', 'kelas.csv')).toThrow('kelas.csv:3: the name is empty');
  expect(() => parseRoster('# nobody\n\n', 'kosong.txt')).toThrow('kosong.txt: no names');
  const big = join(dir, 'besar.txt');
  writeFileSync(big, Array.from({ length: 91 }, (_, i) => `Siswa ${i + 1}`).join('\n'));
  expect(() => rosterFromFile(big)).toThrow(/91 students, but one host holds at most 90 labs/);
  const three = join(dir, 'tiga.txt');
  writeFileSync(three, 'A\nB\nC\n');
  expect(() => rosterFromFile(three, 2)).toThrow('has 3 students but --count is 2');
});

test("cards: a name with markup is text in the HTML; the lab's ports are on the card", () => {
  const config = deriveLab(loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config, 4);
  const card = { lab: 4, student: '<img src=x onerror=alert(1)> Budi', config, host: '192.168.1.10', accounts: [{ address: 'jpri@dadali.com', name: 'Joko', password: 'rahasia123' }] };
  const html = cardsHtml([card]);
  expect(html).not.toContain('<img');
  expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; Budi');
  expect(html).toContain('<td class="port">10425</td>');
  const md = cardsMarkdown([card]);
  expect(md).toContain('## Lab 04 — <img src=x onerror=alert(1)> Budi');
  expect(md).toContain('`telnet 192.168.1.10 20425`');
});

test('the self-check scenarios never use a generated student account (siswa01 …): they have accounts of their own', () => {
  const config = loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config;
  const generated = new Set(config.domains.flatMap((d) => studentAccounts({ students: d.students ?? { prefix: 'siswa', count: 30, name: 'Siswa {n}' } }).map((s) => `${s.user}@${d.name}`)));
  const listed = new Set(config.domains.flatMap((d) => [...d.accounts.map((a) => `${a.user}@${d.name}`), ...Object.keys(d.aliases).map((a) => `${a}@${d.name}`)]));
  const scenarios = join(root, 'lab-scenarios/scenarios');
  for (const f of readdirSync(scenarios)) {
    const text = readFileSync(join(scenarios, f), 'utf8');
    // Accounts and aliases a scenario adds to the lab itself (a `reload: add` step, change-the-lab) are its own.
    const added = new Set(
      loadScenario(join(scenarios, f)).steps.flatMap((step) =>
        'reload' in step ? Object.entries(step.reload.add ?? {}).flatMap(([d, a]) => [...(a.accounts ?? []).map((x) => `${x.user}@${d}`), ...Object.keys(a.aliases ?? {}).map((x) => `${x}@${d}`)]) : [],
      ),
    );
    for (const m of text.matchAll(/\b([a-z0-9._+-]+)@(garudayaksa\.com|dadali\.com)\b/g)) {
      expect({ scenario: f, address: m[0], generated: generated.has(m[0]) }).toEqual({ scenario: f, address: m[0], generated: false });
      expect({ scenario: f, address: m[0], listed: listed.has(m[0]) || added.has(m[0]) || m[1] === 'postmaster' }).toMatchObject({ listed: true });
    }
  }
});
