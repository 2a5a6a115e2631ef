/**
 * `node dist/bench/up/main.js [--runs 3] [--lab 0]`: where the time of
 * `npx mail-lab down` then `npx mail-lab up` goes (issue 15 §0: aim ≤ 5 s for
 * one lab, images already built). Each run takes the Docker lab down (its
 * volumes kept, as a class restarting labs does), then runs `up` as a user
 * does (with the image check, not --no-build) and times its progress lines:
 * the CLI's own start and checks, the image check, `compose up` (containers
 * created and started), and the wait until every service answers. Also the
 * CLI's start alone (`mail-lab --help`). Medians; every run is bounded.
 */
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { boundedInt, runBench } from '../main-args';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, lab: { type: 'string', default: '0' } } });
const runs = boundedInt(values, 'runs', 1, 10);
const lab = boundedInt(values, 'lab', 0, 99);
const repo = join(__dirname, '..', '..', '..');
const cli = join(repo, 'bin', 'mail-lab.js');
const labArgs = lab ? ['--lab', String(lab)] : [];

/** The phases of one `up`, ms, each from the previous mark. */
interface UpRun {
  cliAndChecks: number;
  imageCheck: number;
  composeUp: number;
  answers: number;
  total: number;
}

/** Runs `mail-lab up` and stamps the lines that start each phase (English words: --lang en). */
function timedUp(): Promise<UpRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, 'up', '--lang', 'en', ...labArgs], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const marks: Record<string, number> = {};
    let output = '';
    const kill = setTimeout(() => child.kill('SIGTERM'), 180_000);
    const mark = (name: string) => (marks[name] ??= performance.now() - t0);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      output += d;
      if (d.includes('building the images')) mark('build');
      if (/starting lab \d+/.test(d)) mark('compose');
      if (d.includes('waiting for every service')) mark('wait');
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      const total = performance.now() - t0;
      if (code !== 0 || marks.build === undefined || marks.compose === undefined || marks.wait === undefined) {
        reject(new Error(`mail-lab up exited with ${code}:\n${output.trim().split('\n').slice(-8).join('\n')}`));
        return;
      }
      resolve({ cliAndChecks: marks.build, imageCheck: marks.compose - marks.build, composeUp: marks.wait - marks.compose, answers: total - marks.wait, total });
    });
  });
}

function down(): void {
  const r = spawnSync(process.execPath, [cli, 'down', ...labArgs], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`mail-lab down failed: ${(r.stderr || r.stdout).trim()}`);
}

function cliStartMs(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, [cli, '--help'], { stdio: 'ignore', timeout: 30_000 });
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface UpReport {
  runs: UpRun[];
  cliStart: number;
}

async function bench(): Promise<UpReport> {
  const cliStarts = Array.from({ length: 5 }, cliStartMs);
  process.stderr.write(`a first \`up\` (builds the image when dist/ changed; not counted)\n`);
  await timedUp();
  const out: UpRun[] = [];
  for (let i = 0; i < runs; i++) {
    down();
    const r = await timedUp();
    process.stderr.write(`run ${i + 1}: ${(r.total / 1000).toFixed(2)} s\n`);
    out.push(r);
  }
  return { runs: out, cliStart: median(cliStarts) };
}

function format(r: UpReport): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const row = (label: string, key: keyof UpRun) => `  ${label.padEnd(44)} ${s(median(r.runs.map((x) => x[key]))).padStart(8)}   (${r.runs.map((x) => s(x[key])).join(', ')})`;
  return [
    `mail-lab down, then up (lab ${lab}, images built), ${r.runs.length} runs, medians`,
    row('CLI start and checks (engine, ports, lab)', 'cliAndChecks'),
    row('image check (source hash, no build)', 'imageCheck'),
    row('compose up (network, containers started)', 'composeUp'),
    row('until every service answers', 'answers'),
    row('up, in all', 'total'),
    `  aim ≤ 5 s: ${median(r.runs.map((x) => x.total)) <= 5000 ? 'met' : 'not met'}`,
    `  the CLI's start alone (mail-lab --help, median of 5): ${s(r.cliStart)}`,
  ].join('\n');
}

runBench('up', bench(), format, () => false);
