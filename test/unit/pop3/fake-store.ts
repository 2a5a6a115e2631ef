/**
 * A tiny in-memory MailStore, ONLY for unit tests of the POP3 state machine
 * where a fault must be injected (a message vanishing, a failing expunge).
 * Everything that proves the server works runs against the real mbox store
 * (server.test.ts, clients.test.ts). Only INBOX and the POP3-relevant
 * methods are implemented.
 */
import type { FolderSnapshot, MailStore, MessageInfo } from '../../../services/mail-domain/src/store/types';
import { StoreError } from '../../../services/mail-domain/src/store/types';

export class FakeStore implements MailStore {
  readonly messages = new Map<string, { info: MessageInfo; body: Buffer }[]>();
  readonly locks = new Map<string, string>();
  private uid = 0;
  /** Fault injection. */
  failExpunge = false;
  failSnapshot: 'NO_SUCH_FOLDER' | 'IO' | null = null;

  constructor(readonly users: string[]) {
    for (const u of users) this.messages.set(u, []);
  }

  hasUser(user: string) {
    return this.messages.has(user);
  }
  add(user: string, text: string): MessageInfo {
    const body = Buffer.from(text.replace(/\r?\n/g, '\r\n'));
    const uid = ++this.uid;
    const info: MessageInfo = { uid, flags: [], internalDate: new Date(0), size: body.length, uniqueId: `7.${uid}` };
    this.messages.get(user)!.push({ info, body });
    return info;
  }
  /** Removes a message behind the POP3 session's back (as an IMAP client would). */
  remove(user: string, uid: number) {
    this.messages.set(user, this.messages.get(user)!.filter((m) => m.info.uid !== uid));
  }
  async snapshot(user: string, folder: string): Promise<FolderSnapshot> {
    if (this.failSnapshot === 'NO_SUCH_FOLDER') throw new StoreError('NO_SUCH_FOLDER', 'no such folder');
    if (this.failSnapshot === 'IO') throw new Error('EIO: disk on fire');
    return { user, folder, uidValidity: 7, uidNext: this.uid + 1, messages: this.messages.get(user)!.map((m) => m.info) };
  }
  async read(user: string, _folder: string, uid: number) {
    return this.messages.get(user)!.find((m) => m.info.uid === uid)?.body ?? null;
  }
  async readMany(user: string, folder: string, uids: readonly number[]) {
    return Promise.all(uids.map((uid) => this.read(user, folder, uid)));
  }
  async expunge(user: string, _folder: string, uids: readonly number[]) {
    if (this.failExpunge) throw new StoreError('NO_SPACE', 'no space left on the mail disk');
    const gone = this.messages.get(user)!.filter((m) => uids.includes(m.info.uid)).map((m) => m.info.uid);
    this.messages.set(user, this.messages.get(user)!.filter((m) => !uids.includes(m.info.uid)));
    return gone;
  }
  lockMaildrop(user: string, holder: string) {
    if (this.locks.has(user)) throw new StoreError('LOCKED', `locked by ${this.locks.get(user)}`);
    this.locks.set(user, holder);
    return () => {
      if (this.locks.get(user) === holder) this.locks.delete(user);
    };
  }

  private unused(): never {
    throw new Error('not used by POP3');
  }
  listFolders = async () => ['INBOX'];
  createFolder = async () => this.unused();
  deleteFolder = async () => this.unused();
  renameFolder = async () => this.unused();
  append = async () => this.unused();
  setFlags = async () => this.unused();
  copy = async () => this.unused();
  onChange = () => () => undefined;
  subscriptions = async () => ['INBOX'];
  setSubscribed = async () => this.unused();
}
