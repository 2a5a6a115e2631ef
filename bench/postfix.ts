/**
 * Debian's Postfix as the yardstick for local delivery: installed with apt
 * when missing ("Local only" preseeded, so it never relays), then run as an
 * instance of its own: `postfix -c <dir>/conf start` with a main.cf and
 * master.cf written here, its queue, data, log and mailboxes under the
 * bench's /tmp directory, smtpd on 127.0.0.1 at a free high port, no DNS,
 * no relaying, and delivery by virtual(8) into mbox files (one per user, as
 * ours). Nothing is chrooted, so no files need copying into the queue.
 * Stopped with `postfix -c <dir>/conf stop`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const POSTFIX_DOMAIN = 'postfix-bench.test';
const NOBODY = 65534;

export interface StartedPostfix {
  version: string;
  port: number;
  dir: string;
  mailDir: string;
  masterPid: number;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${(stderr || stdout || err.message).trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(stdout + stderr);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Installs the postfix package when /usr/sbin/postfix is missing (Debian mirror only). */
export async function ensurePostfix(log: (l: string) => void): Promise<void> {
  if (existsSync('/usr/sbin/postfix')) return;
  log('   installing Debian postfix (apt-get, "Local only")');
  await run('debconf-set-selections', [], { input: 'postfix postfix/main_mailer_type select Local only\npostfix postfix/mailname string bench.invalid\n' });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'postfix'], { env, timeoutMs: 300_000 }).catch(async () => {
    await run('apt-get', ['update'], { env, timeoutMs: 300_000 });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'postfix'], { env, timeoutMs: 300_000 });
  });
}

function mainCf(dir: string): string {
  return `# mail-lab bench: a Postfix instance of its own; nothing leaves 127.0.0.1
compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.${POSTFIX_DOMAIN}
mydomain = ${POSTFIX_DOMAIN}
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_transport = error:5.1.1 local delivery is off in the benchmark
alias_maps =
alias_database =
relayhost =
relay_domains =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
default_transport = error:5.7.1 no relaying in the benchmark
virtual_mailbox_domains = ${POSTFIX_DOMAIN}
virtual_mailbox_base = ${dir}/mail
virtual_mailbox_maps = texthash:${dir}/conf/vmailbox
virtual_uid_maps = static:${NOBODY}
virtual_gid_maps = static:${NOBODY}
virtual_minimum_uid = 100
disable_dns_lookups = yes
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_peername_lookup = no
biff = no
message_size_limit = 10485760
# No mailbox size limit (the default, 51,200,000 octets, bounced the fourth smtp-source run's
# messages: 2 x 2000 x 1 KB + 2 x 2000 x 20 KB go into one mbox); ours has none either.
virtual_mailbox_limit = 0
maillog_file_prefixes = ${dir}
maillog_file = ${dir}/maillog
`;
}

function masterCf(port: number): string {
  const rows = [
    [`127.0.0.1:${port}`, 'inet', 'n', '-', 'n', '-', '-', 'smtpd'],
    ['pickup', 'unix', 'n', '-', 'n', '60', '1', 'pickup'],
    ['cleanup', 'unix', 'n', '-', 'n', '-', '0', 'cleanup'],
    ['qmgr', 'unix', 'n', '-', 'n', '300', '1', 'qmgr'],
    ['rewrite', 'unix', '-', '-', 'n', '-', '-', 'trivial-rewrite'],
    ['bounce', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['defer', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['trace', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['verify', 'unix', '-', '-', 'n', '-', '1', 'verify'],
    ['flush', 'unix', 'n', '-', 'n', '1000?', '0', 'flush'],
    ['proxymap', 'unix', '-', '-', 'n', '-', '-', 'proxymap'],
    ['proxywrite', 'unix', '-', '-', 'n', '-', '1', 'proxymap'],
    ['smtp', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
    ['relay', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
    ['showq', 'unix', 'n', '-', 'n', '-', '-', 'showq'],
    ['error', 'unix', '-', '-', 'n', '-', '-', 'error'],
    ['retry', 'unix', '-', '-', 'n', '-', '-', 'error'],
    ['discard', 'unix', '-', '-', 'n', '-', '-', 'discard'],
    ['virtual', 'unix', '-', 'n', 'n', '-', '-', 'virtual'],
    ['anvil', 'unix', '-', '-', 'n', '-', '1', 'anvil'],
    ['scache', 'unix', '-', '-', 'n', '-', '1', 'scache'],
    ['postlog', 'unix-dgram', 'n', '-', 'n', '-', '1', 'postlogd'],
  ];
  return '# mail-lab bench: no chroot, smtpd on loopback only\n' + rows.map((r) => r.join('\t')).join('\n') + '\n';
}

/** Writes the instance's configuration and starts it; `users` get a mailbox each. */
export async function startPostfix(dir: string, port: number, users: string[]): Promise<StartedPostfix> {
  const conf = join(dir, 'conf');
  for (const d of [conf, join(dir, 'spool'), join(dir, 'data'), join(dir, 'mail')]) mkdirSync(d, { recursive: true });
  chownSync(join(dir, 'mail'), NOBODY, NOBODY);
  const postfixUid = Number((await run('id', ['-u', 'postfix'])).trim());
  chownSync(join(dir, 'data'), postfixUid, 0);
  writeFileSync(join(conf, 'main.cf'), mainCf(dir));
  writeFileSync(join(conf, 'master.cf'), masterCf(port));
  writeFileSync(join(conf, 'vmailbox'), users.map((u) => `${u}@${POSTFIX_DOMAIN}\t${u}\n`).join(''));
  const version = (await run('postconf', ['-c', conf, '-h', 'mail_version'])).trim();
  await run('postfix', ['-c', conf, 'check']);
  await run('postfix', ['-c', conf, 'start']);
  const pidFile = join(dir, 'spool', 'pid', 'master.pid');
  let masterPid = NaN;
  for (let i = 0; i < 100 && !Number.isFinite(masterPid); i++) {
    if (existsSync(pidFile)) masterPid = Number(readFileSync(pidFile, 'utf8').trim()) || NaN;
    if (!Number.isFinite(masterPid)) await new Promise((r) => setTimeout(r, 50));
  }
  let stopped = false;
  return {
    version,
    port,
    dir,
    mailDir: join(dir, 'mail'),
    masterPid,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run('postfix', ['-c', conf, 'stop']).catch(() => undefined);
    },
  };
}
