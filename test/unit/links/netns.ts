/**
 * Two network namespaces of the test's own joined by a veth pair, standing
 * in for two mail containers on the backbone: `a` (10.212.0.10, default
 * route via the "gateway" 10.212.0.1) and `b` (10.212.0.20, and 10.212.0.1
 * too, so a connection from the gateway address can be made from it). A
 * small TCP server runs in each; `connect` tries a connection from inside a
 * namespace. Needs root and `ip netns`; removed by `remove()`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { execFileRunner, type CommandRunner } from '../../../services/mail-domain/src/links/runner';

export const SUBNET = '10.212.0.0/24';
export const GATEWAY = '10.212.0.1';
export const ADDR_A = '10.212.0.10';
export const ADDR_B = '10.212.0.20';
export const PORT = 2525;

/** Can this process make namespaces (root, iproute2 with netns)? */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
    execFileSync('tc', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Runs a command in the namespace; stdout. */
export const inNs = (ns: string, cmd: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** The link control's runner, run inside `ns` with the host's tools. */
export const nsRunner =
  (ns: string): CommandRunner =>
  (file, args) =>
    execFileRunner('ip', ['netns', 'exec', ns, file, ...args]);

/** Answers `hi` on connect; after the client ends, `got <bytes>`. */
const SERVER = `
require('net').createServer((s) => {
  let n = 0;
  s.on('error', () => {});
  s.on('data', (d) => { n += d.length; });
  s.on('end', () => s.end('got ' + n + '\\n'));
  s.write('hi\\n');
}).listen(${PORT}, '0.0.0.0', () => console.log('listening'));
`;

/** Connects (from localAddress if given), sends \`bytes\`, waits for the answer; prints one JSON line. */
const CLIENT = `
const [host, port, ms, bytes, local] = process.argv.slice(1);
const t0 = Date.now();
const done = (r) => { console.log(JSON.stringify({ ...r, ms: Date.now() - t0 })); process.exit(0); };
setTimeout(() => done({ result: 'timeout' }), Number(ms));
const s = require('net').connect({ host, port: Number(port), ...(local ? { localAddress: local } : {}) });
let text = '';
s.on('error', (e) => done({ result: 'error', code: e.code }));
s.on('data', (d) => { text += d; if (/got \\d+/.test(text)) done({ result: 'connected', answer: text.trim() }); });
s.on('connect', () => { s.end(Buffer.alloc(Number(bytes))); });
`;

export interface ConnectResult {
  result: 'connected' | 'timeout' | 'error';
  code?: string;
  answer?: string;
  ms: number;
}

export interface NetnsPair {
  a: string;
  b: string;
  devA: string;
  /** From inside `ns`: connect to host:PORT within `timeoutMs`, send `bytes`. */
  connect(ns: string, host: string, o?: { timeoutMs?: number; bytes?: number; from?: string }): Promise<ConnectResult>;
  remove(): void;
}

export async function makeNetnsPair(tag: string): Promise<NetnsPair> {
  const a = `mlt-${tag}-a`;
  const b = `mlt-${tag}-b`;
  const devA = `mlt${tag}a`.slice(0, 15);
  const devB = `mlt${tag}b`.slice(0, 15);
  const servers: ChildProcess[] = [];
  const remove = () => {
    for (const s of servers) s.kill();
    for (const ns of [a, b]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not there
      }
    }
  };
  remove();
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    ip('link', 'add', devA, 'type', 'veth', 'peer', 'name', devB);
    ip('link', 'set', devA, 'netns', a);
    ip('link', 'set', devB, 'netns', b);
    ip('-n', a, 'addr', 'add', `${ADDR_A}/24`, 'dev', devA);
    ip('-n', b, 'addr', 'add', `${ADDR_B}/24`, 'dev', devB);
    ip('-n', b, 'addr', 'add', `${GATEWAY}/24`, 'dev', devB);
    for (const [ns, dev] of [[a, devA], [b, devB]]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    ip('-n', a, 'route', 'add', 'default', 'via', GATEWAY);
    for (const ns of [a, b]) {
      const s = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.stdout!.once('data', () => resolve());
        s.once('exit', (code) => reject(new Error(`the test server in ${ns} exited (${code})`)));
      });
    }
  } catch (e) {
    remove();
    throw e;
  }
  return {
    a,
    b,
    devA,
    remove,
    connect: (ns, host, o = {}) =>
      new Promise((resolve, reject) => {
        const args = [host, String(PORT), String(o.timeoutMs ?? 1500), String(o.bytes ?? 0), ...(o.from ? [o.from] : [])];
        const c = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        c.on('exit', () => {
          try {
            resolve(JSON.parse(out) as ConnectResult);
          } catch {
            reject(new Error(`the test client said: ${out}`));
          }
        });
      }),
  };
}
