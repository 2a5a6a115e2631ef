/**
 * The command table: which handler answers each command. States are checked
 * before dispatch (`states.ts`); handlers return the tagged result.
 */
import * as any from './cmd-any';
import * as auth from './cmd-auth';
import { fetch } from './cmd-fetch';
import { list } from './cmd-list';
import * as mailbox from './cmd-mailbox';
import * as message from './cmd-message';
import { search } from './cmd-search';
import type { CommandName, CommandOf } from './commands';
import type { Result } from './result';
import type { Session } from './session';

type Handler<N extends CommandName> = (s: Session, tag: string, cmd: CommandOf<N>) => Promise<Result>;

export const HANDLERS: { [N in CommandName]: Handler<N> } = {
  CAPABILITY: any.capability,
  NOOP: any.noop,
  CHECK: any.noop,
  LOGOUT: any.logout,
  ID: any.id,
  ENABLE: any.enable,
  NAMESPACE: any.namespace,
  STARTTLS: any.starttls,
  IDLE: any.idle,
  LOGIN: auth.login,
  AUTHENTICATE: auth.authenticate,
  SELECT: mailbox.select,
  EXAMINE: mailbox.select,
  CREATE: mailbox.create,
  DELETE: mailbox.remove,
  RENAME: mailbox.rename,
  SUBSCRIBE: mailbox.subscribe,
  UNSUBSCRIBE: mailbox.subscribe,
  STATUS: mailbox.status,
  APPEND: mailbox.append,
  LIST: list,
  LSUB: list,
  FETCH: fetch,
  SEARCH: search,
  STORE: message.store,
  COPY: message.copy,
  MOVE: message.copy,
  EXPUNGE: message.expunge,
  CLOSE: message.close,
  UNSELECT: message.close,
};
