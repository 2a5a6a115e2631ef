/**
 * SEARCH and UID SEARCH (RFC 3501 sections 6.4.4, 6.4.8): CHARSET UTF-8 or
 * US-ASCII (others get NO [BADCHARSET]), every key evaluated by `search.ts`
 * against the session's view; message content is read only when a key
 * needs it.
 */
import type { Command, CommandOf } from './commands';
import { parseEntity, type MimeEntity } from './mime';
import { no, ok, type Result } from './result';
import { matches, needsContent } from './search';
import type { Session } from './session';
import { raw } from './wire';
import type { MessageInfo } from '../store/types';

type Cmd<N extends Command['name']> = CommandOf<N>;

const CHARSETS = ['UTF-8', 'US-ASCII'];

export async function search(s: Session, _tag: string, cmd: Cmd<'SEARCH'>): Promise<Result> {
  if (cmd.charset !== null && !CHARSETS.includes(cmd.charset)) {
    return no(`Charset ${cmd.charset} is not supported`, `BADCHARSET (${CHARSETS.join(' ')})`);
  }
  const view = s.view!;
  const snap = await s.ctx.store.snapshot(view.user, view.folder);
  const infos = new Map<number, MessageInfo>(snap.messages.map((m) => [m.uid, m]));
  const content = needsContent(cmd.key);
  const maxUid = view.uids.length > 0 ? view.uids[view.uids.length - 1] : 0;
  const found: number[] = [];
  for (let i = 0; i < view.uids.length; i++) {
    const uid = view.uids[i];
    const info = infos.get(uid);
    if (!info) continue;
    let entity: MimeEntity | null = null;
    if (content) {
      const message = await s.ctx.store.read(view.user, view.folder, uid);
      if (!message) continue;
      entity = parseEntity(message);
    }
    const target = {
      seq: i + 1,
      uid,
      flags: info.flags,
      size: info.size,
      internalDate: info.internalDate,
      recent: view.recent.has(uid),
      maxSeq: view.uids.length,
      maxUid,
      entity: () => entity!,
    };
    if (matches(cmd.key, target)) found.push(cmd.uid ? uid : i + 1);
  }
  s.untagged([raw('SEARCH'), ...found]);
  return ok(`${cmd.uid ? 'UID ' : ''}SEARCH completed`);
}
