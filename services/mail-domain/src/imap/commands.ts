/**
 * The `Command` union: what the parser produces and the session dispatches.
 * One variant per IMAP command (RFC 3501 section 6 plus the extensions we
 * advertise), with arguments already decoded (mailbox names from modified
 * UTF-7, sequence sets, fetch attributes, search keys).
 */
import type { SequenceSet } from './sequence';

export type SectionPart = '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export type FetchAtt =
  | { kind: 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' | 'UID' }
  | { kind: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | {
      kind: 'section';
      peek: boolean;
      /** Part numbers, e.g. [1, 2] for `BODY[1.2]`; empty for the whole message. */
      path: number[];
      part: SectionPart;
      /** Upper-cased field names for HEADER.FIELDS (NOT). */
      fields: string[];
      partial: { start: number; length: number } | null;
    };

export type SearchKey =
  | { key: 'ALL' }
  | { key: 'FLAG'; flag: string; set: boolean }
  | { key: 'RECENT' | 'NEW' | 'OLD' }
  | { key: 'HEADER'; field: string; value: string }
  | { key: 'BODY' | 'TEXT'; value: string }
  | { key: 'DATE'; sent: boolean; cmp: 'BEFORE' | 'ON' | 'SINCE'; day: number }
  | { key: 'SIZE'; larger: boolean; size: number }
  | { key: 'NOT'; inner: SearchKey }
  | { key: 'OR'; a: SearchKey; b: SearchKey }
  | { key: 'AND'; keys: SearchKey[] }
  | { key: 'SEQ' | 'UID'; set: SequenceSet };

export type Command =
  | { name: 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'NAMESPACE' | 'IDLE' }
  | { name: 'CHECK' | 'CLOSE' | 'UNSELECT' }
  | { name: 'ID'; params: Array<[string, string | null]> | null }
  | { name: 'ENABLE'; capabilities: string[] }
  | { name: 'LOGIN'; user: string; password: string }
  | { name: 'AUTHENTICATE'; mechanism: string; initial: string | null }
  | { name: 'SELECT' | 'EXAMINE' | 'CREATE' | 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; mailbox: string }
  | { name: 'RENAME'; from: string; to: string }
  | { name: 'LIST' | 'LSUB'; reference: string; pattern: string }
  | { name: 'STATUS'; mailbox: string; items: string[] }
  | { name: 'APPEND'; mailbox: string; flags: string[]; date: Date | null; message: Buffer }
  | { name: 'EXPUNGE'; uid: boolean; set: SequenceSet | null }
  | { name: 'FETCH'; uid: boolean; set: SequenceSet; atts: FetchAtt[] }
  | { name: 'STORE'; uid: boolean; set: SequenceSet; op: 'set' | 'add' | 'remove'; silent: boolean; flags: string[] }
  | { name: 'COPY' | 'MOVE'; uid: boolean; set: SequenceSet; mailbox: string }
  | { name: 'SEARCH'; uid: boolean; charset: string | null; key: SearchKey };

export type CommandName = Command['name'];

/** A parsed command line: the tag and the command, or the reason it could not be parsed. */
export type Parsed =
  | { ok: true; tag: string; command: Command }
  | {
      ok: false;
      tag: string | null;
      message: string;
      /** The command was understood but an argument is refused: NO with this code (after the state check), not BAD. */
      refusal?: { name: CommandName; code: string };
    };

/** The variant(s) of `Command` with the given name(s); works where one variant covers several names. */
export type CommandOf<N extends CommandName> = Command & { name: N };
