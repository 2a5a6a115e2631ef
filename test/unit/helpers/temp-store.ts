/**
 * A mail store on a fresh temporary directory for each test, for the store
 * tests: `open()` opens it (again, as a restart does); after each test every
 * store opened is flushed and the directory removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMailStore, type MboxMailStore } from '../../../services/mail-domain/src/store/mbox-store';

export function tempStore(prefix: string, users: string[]): { readonly dir: string; open(): Promise<MboxMailStore> } {
  let dir = '';
  const stores: MboxMailStore[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.flush();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async open() {
      const s = createMailStore({ dataDir: dir, users, sidecarDelayMs: 5 });
      await s.init();
      stores.push(s);
      return s;
    },
  };
}
