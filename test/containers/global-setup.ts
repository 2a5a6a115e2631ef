/**
 * The container suite starts from a known state (issue 9): it runs on the
 * lab of this machine (project `mail-lab`, the contract's ports), so before
 * its first test it takes down a lab that is running or left volumes
 * behind, volumes included, and says so plainly. Each test file then starts
 * the lab fresh and takes it down with its volumes at the end: the suite
 * RESETS the lab of this machine (mailboxes, queues, the lab CA).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '../..');

const labProject = /^mail-lab(-\d\d)?$/;

/** What of the labs of this host (project mail-lab, mail-lab-NN) exists now: containers and volumes. */
async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  const ps = await run('docker', ['ps', '-a', '--filter', 'label=com.docker.compose.project', '--format', '{{.Label "com.docker.compose.project"}} {{.Names}} ({{.State}})']).catch(() => ({ stdout: '' }));
  found.push(...ps.stdout.split('\n').filter((l) => labProject.test(l.split(' ')[0])).map((l) => `container ${l.split(' ').slice(1).join(' ')}`));
  const vols = await run('docker', ['volume', 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.Label "com.docker.compose.project"}} {{.Name}}']).catch(() => ({ stdout: '' }));
  found.push(...vols.stdout.split('\n').filter((l) => labProject.test(l.split(' ')[0])).map((l) => `volume ${l.split(' ')[1]}`));
  return found;
}

/** The numbers of the numbered labs (project mail-lab-NN) that still have a container or a volume. */
async function leftoverLabNumbers(): Promise<number[]> {
  const projects = await Promise.all(
    [
      ['ps', '-a', '--filter', 'label=com.docker.compose.project', '--format', '{{.Label "com.docker.compose.project"}}'],
      ['volume', 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.Label "com.docker.compose.project"}}'],
    ].map((args) => run('docker', args).then((r) => r.stdout.split('\n'), () => [] as string[])),
  );
  const numbers = projects.flat().map((p) => /^mail-lab-(\d\d)$/.exec(p.trim())?.[1]).filter((x): x is string => !!x);
  return [...new Set(numbers.map(Number))].sort((a, b) => a - b);
}

export default async function globalSetup(): Promise<void> {
  const found = await leftovers();
  const local = await run(process.execPath, [join(root, 'bin/mail-lab.js'), 'status'], { cwd: root }).then(
    (r) => /no-Docker/.test(r.stdout),
    () => false,
  );
  if (!found.length && !local) return;
  process.stderr.write(
    `\n[containers] The container suite resets the labs of this machine: it takes down every lab it finds (lab 0, the numbered labs of \`class up\` and any \`up --lab N\`) and deletes their data (mailboxes, queues, the lab CAs).\n` +
      `[containers] Found: ${[...(local ? ['a no-Docker lab (npx mail-lab up --local)'] : []), ...found].join(', ')}\n` +
      `[containers] Running: npx mail-lab down --volumes; npx mail-lab class down --volumes; npx mail-lab down --lab N --volumes for a numbered lab left\n`,
  );
  await run(process.execPath, [join(root, 'bin/mail-lab.js'), 'down', '--volumes'], { cwd: root, timeout: 180_000 }).catch(() => undefined);
  await run(process.execPath, [join(root, 'bin/mail-lab.js'), 'class', 'down', '--volumes'], { cwd: root, timeout: 600_000 });
  // A no-Docker lab and a Docker lab may both be there: down stops one at a time.
  if (local && (await leftovers()).length) await run(process.execPath, [join(root, 'bin/mail-lab.js'), 'down', '--volumes'], { cwd: root, timeout: 180_000 });
  // A numbered lab started on its own (`up --lab N`, not by `class up`) is not in the class roster:
  // take each one that is left down by its number.
  for (const n of await leftoverLabNumbers()) {
    await run(process.execPath, [join(root, 'bin/mail-lab.js'), 'down', '--lab', String(n), '--volumes'], { cwd: root, timeout: 180_000 }).catch(() => undefined);
  }
  const still = await leftovers();
  if (still.length) throw new Error(`[containers] could not reset the lab: still there: ${still.join(', ')}`);
}
