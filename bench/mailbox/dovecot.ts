/**
 * Debian's Dovecot (dovecot-imapd + dovecot-pop3d) as the yardstick for
 * reading mail: installed with apt-get when missing, then run as an instance
 * of its own in the foreground (`dovecot -F -c <dir>/dovecot.conf`, a child
 * of the benchmark, stopped by its PID): base_dir, logs and mail under the
 * benchmark's /tmp directory, IMAP and POP3 on 127.0.0.1 at free high
 * ports, no TLS, plaintext logins allowed, one static password (the lab's),
 * mail_location = mbox with the INBOX file given. Nothing else is touched: a
 * system Dovecot, if any, keeps running on its own ports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childStopper } from './stop-child';

const DOVECOT = '/usr/sbin/dovecot';
const NOBODY = 65534;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${(stderr || stdout || err.message).trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(stdout + stderr);
    });
  });
}

/** Installs dovecot-imapd and dovecot-pop3d when Dovecot is missing (Debian mirror only; needs root). */
export async function ensureDovecot(log: (l: string) => void): Promise<void> {
  if (existsSync(DOVECOT) && existsSync('/usr/lib/dovecot/imap') && existsSync('/usr/lib/dovecot/pop3')) return;
  log('   installing Debian dovecot-imapd and dovecot-pop3d (apt-get)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'dovecot-imapd', 'dovecot-pop3d'], env, 300_000);
  await install().catch(async () => {
    await run('apt-get', ['update'], env, 300_000);
    await install();
  });
}

export interface StartedDovecot {
  version: string;
  imapPort: number;
  pop3Port: number;
  pid: number;
  /** The INBOX mbox file Dovecot serves (a copy: Dovecot writes its own headers into it). */
  inbox: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface DovecotOptions {
  dir: string;
  user: string;
  password: string;
  imapPort: number;
  pop3Port: number;
}

function config(o: DovecotOptions, mailRoot: string): string {
  return `# mail-lab bench: a Dovecot instance of its own, loopback only
base_dir = ${o.dir}/run
state_dir = ${o.dir}/state
log_path = ${o.dir}/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = mbox:${mailRoot}/%n:INBOX=${mailRoot}/%n/inbox
passdb {
  driver = static
  args = password=${o.password}
}
userdb {
  driver = static
  args = uid=${NOBODY} gid=${NOBODY} home=${o.dir}/home/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${o.imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${o.pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
`;
}

/**
 * Writes the configuration, lays out `o.user`'s mail directory (the caller
 * copies the INBOX file to `inbox` before the first login) and starts Dovecot.
 */
export async function prepareDovecot(o: DovecotOptions): Promise<{ inbox: string; start(): Promise<StartedDovecot> }> {
  const mailRoot = join(o.dir, 'mail');
  const userDir = join(mailRoot, o.user);
  for (const d of [join(o.dir, 'run'), join(o.dir, 'state'), userDir, join(o.dir, 'home', o.user)]) mkdirSync(d, { recursive: true });
  const conf = join(o.dir, 'dovecot.conf');
  writeFileSync(conf, config(o, mailRoot));
  const inbox = join(userDir, 'inbox');
  return {
    inbox,
    async start() {
      for (const d of [mailRoot, userDir, join(o.dir, 'home'), join(o.dir, 'home', o.user)]) chownSync(d, NOBODY, NOBODY);
      if (existsSync(inbox)) chownSync(inbox, NOBODY, NOBODY);
      const version = (await run(DOVECOT, ['-c', conf, '--version'])).trim();
      const out = openSync(join(o.dir, 'dovecot.stdout'), 'a');
      const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', out, out] });
      closeSync(out);
      return {
        version,
        imapPort: o.imapPort,
        pop3Port: o.pop3Port,
        pid: child.pid ?? -1,
        inbox,
        logFile: join(o.dir, 'dovecot.log'),
        stop: childStopper(child),
      };
    },
  };
}
