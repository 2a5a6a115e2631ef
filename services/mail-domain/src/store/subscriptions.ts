/**
 * A user's IMAP subscriptions (SUBSCRIBE / UNSUBSCRIBE / LSUB, RFC 3501
 * 6.3.6-6.3.9): the sorted list of folder names in
 * `state/<user>/subscriptions.json` (mode 0600, replaced durably: temp file,
 * fsync, rename). A user without the file (or with an unreadable one) is
 * subscribed to INBOX and the special-use folders. The mailbox store calls
 * this under the user's lock, after checking the user.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { INBOX, STATE_MODE, normalizeFolder, userStateDir } from './paths';
import { replaceDurable } from '../../../core/src/durable-file';

export interface SubscriptionsOptions {
  dataDir: string;
  /** The special-use folders every account has (subscribed by default, after INBOX). */
  specialFolders: readonly string[];
}

export class Subscriptions {
  constructor(private readonly o: SubscriptionsOptions) {}

  private path(user: string): string {
    return join(userStateDir(this.o.dataDir, user), 'subscriptions.json');
  }

  /** The folders `user` is subscribed to. */
  async list(user: string): Promise<string[]> {
    try {
      return JSON.parse(await fs.readFile(this.path(user), 'utf8')) as string[];
    } catch {
      return [INBOX, ...this.o.specialFolders];
    }
  }

  /** Back to the default (INBOX and the special-use folders). */
  async reset(user: string): Promise<void> {
    await fs.unlink(this.path(user)).catch(() => undefined);
  }

  /** Subscribes `user` to `folder` or unsubscribes. */
  async set(user: string, folder: string, subscribed: boolean): Promise<void> {
    const set = new Set(await this.list(user));
    const f = normalizeFolder(folder);
    if (subscribed) set.add(f);
    else set.delete(f);
    await replaceDurable(this.path(user), JSON.stringify([...set].sort()), { mode: STATE_MODE });
  }
}
