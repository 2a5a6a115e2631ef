/**
 * Waiting for a writable stream (a socket, an HTTP response) to take more:
 * a long answer written piece by piece (a POP3 RETR, an IMAP FETCH over a
 * big mailbox, the admin API's queue listing) waits here instead of piling
 * up in memory ahead of a slow reader. A closed stream ends the wait too,
 * and both listeners go, whichever came.
 */
import type { Writable } from 'node:stream';

/** Resolves at the next 'drain' or 'close' of `out`. */
export function drainOrClose(out: Pick<Writable, 'on' | 'off'>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
