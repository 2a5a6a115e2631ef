/**
 * LIST and LSUB (RFC 3501 sections 6.3.8 and 6.3.9): `*` and `%` wildcards,
 * the empty-pattern form that reports the hierarchy separator, implied
 * parents as \Noselect, CHILDREN attributes (RFC 3348) and SPECIAL-USE
 * attributes (RFC 6154) for Sent, Drafts and Trash.
 */
import type { Command, CommandOf } from './commands';
import { failure, ok, type Result } from './result';
import type { Session } from './session';
import { encodeMailboxName } from './utf7';
import { raw } from './wire';

type Cmd<N extends Command['name']> = CommandOf<N>;

const SPECIAL_USE: Record<string, string> = {
  Sent: '\\Sent',
  Drafts: '\\Drafts',
  Trash: '\\Trash',
  Junk: '\\Junk',
  Archive: '\\Archive',
};

/** `*` matches anything, `%` anything but the separator; INBOX matches case-insensitively. */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '%' ? '[^/]*' : ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const exact = new RegExp(`^${source}$`);
  const inbox = new RegExp(`^${source}$`, 'i');
  return (name) => exact.test(name) || ((name === 'INBOX' || name.startsWith('INBOX/')) && inbox.test(name));
}

export async function list(s: Session, _tag: string, cmd: Cmd<'LIST' | 'LSUB'>): Promise<Result> {
  const user = s.user!;
  if (cmd.pattern === '') {
    // RFC 3501 6.3.8: an empty pattern asks for the hierarchy delimiter and root.
    s.untagged([raw(cmd.name), [raw('\\Noselect')], '/', '']);
    return ok(`${cmd.name} completed`);
  }
  let folders: string[];
  let subscribed: string[] = [];
  try {
    folders = await s.ctx.store.listFolders(user);
    if (cmd.name === 'LSUB') subscribed = await s.ctx.store.subscriptions(user);
  } catch (error) {
    return failure(error, s.log);
  }
  const exists = new Set(folders);
  const names = [...folders];
  for (const folder of folders) {
    const parts = folder.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!exists.has(parent) && !names.includes(parent)) names.push(parent);
    }
  }
  const matches = patternMatcher(cmd.reference + cmd.pattern);
  const candidates = cmd.name === 'LSUB' ? subscribed : names;
  // RFC 3501 6.3.9: with `%`, LSUB answers an unsubscribed parent of a subscribed name as \Noselect.
  const parentsOnly = new Set<string>();
  if (cmd.name === 'LSUB') {
    const isSubscribed = new Set(subscribed);
    for (const name of subscribed) {
      if (matches(name)) continue;
      const parts = name.split('/');
      for (let i = parts.length - 1; i >= 1; i--) {
        const parent = parts.slice(0, i).join('/');
        if (isSubscribed.has(parent) || !matches(parent)) continue;
        parentsOnly.add(parent);
        break;
      }
    }
  }
  for (const name of [...candidates, ...parentsOnly]) {
    if (!parentsOnly.has(name) && !matches(name)) continue;
    const attributes: string[] = [];
    if (!exists.has(name) || parentsOnly.has(name)) attributes.push('\\Noselect');
    if (cmd.name === 'LIST') {
      attributes.push(names.some((n) => n.startsWith(name + '/')) ? '\\HasChildren' : '\\HasNoChildren');
      if (SPECIAL_USE[name]) attributes.push(SPECIAL_USE[name]);
    }
    s.untagged([raw(cmd.name), attributes.map(raw), '/', encodeMailboxName(name)]);
  }
  return ok(`${cmd.name} completed`);
}
