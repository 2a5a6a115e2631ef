/** Stopping a server the benchmark started: SIGTERM, SIGKILL after 8 s, once; resolves when it has exited. */
import type { ChildProcess } from 'node:child_process';

export function childStopper(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const kill = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(kill);
  };
}
