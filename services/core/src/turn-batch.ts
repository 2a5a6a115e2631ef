/**
 * Lines written a turn of the event loop at a time: the one mechanism behind
 * the services' log on standard output (logger.ts) and the trace journal
 * (mail-domain trace/journal.ts). A busy server produces several lines per
 * message; one write per line is a synchronous syscall each on the event
 * loop. Lines pushed during a turn go out together at its end (setImmediate),
 * at once past `maxOctets`, whenever the owner calls `flush()` (before it
 * reads what it wrote), and synchronously when the process exits, so an exit's
 * or a crash's last lines are not lost; only a SIGKILL loses the lines of the
 * turn it cut.
 */

export interface TurnBatch {
  /** Adds one line (its newline is added here). */
  push(line: string): void;
  /** Writes what is pending now. */
  flush(): void;
}

/** Batches with lines pending, written on exit (one hook for all of them: a test process makes many). */
const unflushed = new Set<TurnBatch>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const b of [...unflushed]) b.flush();
  });
}

/** `write` gets the pending lines joined, each ending in a newline. */
export function turnBatch(write: (text: string) => void, maxOctets = 64 * 1024): TurnBatch {
  let pending: string[] = [];
  let octets = 0;
  let scheduled = false;
  const batch: TurnBatch = {
    push(line) {
      pending.push(line + '\n');
      octets += line.length + 1;
      if (octets > maxOctets) return batch.flush();
      if (!scheduled) {
        scheduled = true;
        unflushed.add(batch);
        hookExit();
        setImmediate(() => batch.flush()).unref();
      }
    },
    flush() {
      scheduled = false;
      unflushed.delete(batch);
      if (!pending.length) return;
      const text = pending.join('');
      pending = [];
      octets = 0;
      write(text);
    },
  };
  return batch;
}
