/**
 * How the Docker-mode link control runs iptables, tc and ip: a
 * `CommandRunner` (injectable: the tests run the same control inside a
 * network namespace of their own with `ip netns exec`), and where the
 * binaries are. In the image, iptables and tc are copies carrying the file
 * capability cap_net_admin (see the Dockerfile): the server runs as the
 * unprivileged `mail-lab` with no capabilities of its own, and only these
 * two binaries get NET_ADMIN, in containers that have it in their bounding
 * set. `ip` only reads routes, which needs no capability.
 */
import { execFile } from 'node:child_process';
import { ApiError } from '../../../core/src/admin/errors';

export interface CommandResult {
  /** Exit status; -1 when the program could not be started (then `stderr` says why). */
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (file: string, args: string[]) => Promise<CommandResult>;

export interface LinkTools {
  iptables: string;
  tc: string;
  ip: string;
}

/** The image's capability binaries (Dockerfile) and the plain `ip`. */
export const DEFAULT_LINK_TOOLS: LinkTools = {
  iptables: '/usr/local/libexec/mail-lab/iptables',
  tc: '/usr/local/libexec/mail-lab/tc',
  ip: 'ip',
};

/** Why a program could not be started, with a hint for the capability binaries. */
function cannotRun(file: string, err: NodeJS.ErrnoException): string {
  const hint = err.code === 'EPERM' ? ' (a binary with a file capability runs only where the container has that capability in its bounding set: cap_add NET_ADMIN)' : '';
  return `cannot run ${file}: ${err.message}${hint}`;
}

/** Runs the program directly (no shell), C locale, 15 s at most. */
export const execFileRunner: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    try {
      execFile(file, args, { timeout: 15_000, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const code = typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr: stderr || (code === -1 ? cannotRun(file, err as NodeJS.ErrnoException) : err.message) });
      });
    } catch (err) {
      // spawn throws at once for some errors, e.g. EPERM when exec of a file-capability binary is refused.
      resolve({ code: -1, stdout: '', stderr: cannotRun(file, err as NodeJS.ErrnoException) });
    }
  });

/** A command of the link control failed: 500 `failed`, with the command and what it said. */
export class LinkCommandError extends ApiError {
  constructor(
    readonly command: string[],
    readonly result: CommandResult,
  ) {
    super(500, 'failed', `${command.join(' ')} failed (exit status ${result.code}): ${(result.stderr || result.stdout).trim() || 'no message'}`);
  }
}

/** The three tools over one runner; `must` throws {@link LinkCommandError}, `try` returns the result. iptables always waits for the lock (-w). */
export class NetTools {
  constructor(
    private readonly runner: CommandRunner,
    readonly tools: LinkTools,
  ) {}

  try(tool: keyof LinkTools, args: string[]): Promise<CommandResult> {
    return this.runner(this.tools[tool], tool === 'iptables' ? ['-w', ...args] : args);
  }

  async must(tool: keyof LinkTools, args: string[]): Promise<string> {
    const r = await this.try(tool, args);
    if (r.code !== 0) throw new LinkCommandError([tool, ...(tool === 'iptables' ? ['-w'] : []), ...args], r);
    return r.stdout;
  }
}
