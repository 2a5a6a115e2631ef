/**
 * Address-list parsing for ENVELOPE (RFC 2822 section 3.4, RFC 3501 section
 * 7.4.2): display names, angle addresses, source routes, comments and
 * groups, producing IMAP address structures `(name adl mailbox host)` with
 * the group markers `(NIL NIL "group" NIL)` ... `(NIL NIL NIL NIL)`.
 */

export interface ImapAddress {
  readonly name: string | null;
  readonly adl: string | null;
  readonly mailbox: string | null;
  readonly host: string | null;
}

type Token = { kind: 'word' | 'quoted' | 'comment' | 'special'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      i++;
      tokens.push({ kind: 'quoted', text: value });
    } else if (ch === '(') {
      let depth = 0;
      let value = '';
      do {
        const c = text[i];
        if (c === '\\' && i + 1 < text.length) value += text[++i];
        else if (c === '(') {
          if (depth > 0) value += c;
          depth++;
        } else if (c === ')') {
          depth--;
          if (depth > 0) value += c;
        } else value += c;
        i++;
      } while (i < text.length && depth > 0);
      tokens.push({ kind: 'comment', text: value.trim() });
    } else if ('<>:;,@'.includes(ch)) {
      tokens.push({ kind: 'special', text: ch });
      i++;
    } else {
      let value = '';
      while (i < text.length && !/[\s"(<>:;,@]/.test(text[i])) value += text[i++];
      tokens.push({ kind: 'word', text: value });
    }
  }
  return tokens;
}

function mailboxOf(tokens: Token[]): ImapAddress | null {
  const open = tokens.findIndex((t) => t.kind === 'special' && t.text === '<');
  let name: string | null = null;
  let spec: Token[];
  if (open >= 0) {
    const close = tokens.findIndex((t, i) => i > open && t.kind === 'special' && t.text === '>');
    const before = tokens.slice(0, open).filter((t) => t.kind !== 'comment');
    name = before.map((t) => t.text).join(' ') || null;
    spec = tokens.slice(open + 1, close < 0 ? tokens.length : close);
  } else {
    spec = tokens.filter((t) => t.kind !== 'comment');
    const comment = tokens.find((t) => t.kind === 'comment');
    name = comment ? comment.text || null : null;
  }
  let adl: string | null = null;
  const colon = spec.findIndex((t) => t.kind === 'special' && t.text === ':');
  if (colon >= 0) {
    adl = spec.slice(0, colon).map((t) => t.text).join('') || null;
    spec = spec.slice(colon + 1);
  }
  const addr = spec.filter((t) => t.kind !== 'comment').map((t) => (t.kind === 'quoted' && /[\s"\\]/.test(t.text) ? `"${t.text}"` : t.text)).join('');
  // A comment alone (`group: (foo) ;`) is not an address; `Name <>` still is one.
  if (!addr && (open < 0 || !name)) return null;
  const at = addr.lastIndexOf('@');
  return {
    name,
    adl,
    mailbox: at >= 0 ? addr.slice(0, at) : addr,
    host: at >= 0 ? addr.slice(at + 1) : '',
  };
}

export function parseAddressList(value: string | null): ImapAddress[] {
  if (!value) return [];
  const out: ImapAddress[] = [];
  let current: Token[] = [];
  let inGroup = false;
  let inAngle = false;
  const flush = () => {
    const address = mailboxOf(current);
    if (address) out.push(address);
    current = [];
  };
  for (const token of tokenize(value)) {
    if (token.kind === 'special') {
      if (token.text === '<') inAngle = true;
      if (token.text === '>') inAngle = false;
      if (!inAngle && token.text === ':' && !inGroup) {
        const groupName = current.filter((t) => t.kind !== 'comment').map((t) => t.text).join(' ');
        out.push({ name: null, adl: null, mailbox: groupName, host: null });
        current = [];
        inGroup = true;
        continue;
      }
      if (!inAngle && token.text === ';' && inGroup) {
        flush();
        out.push({ name: null, adl: null, mailbox: null, host: null });
        inGroup = false;
        continue;
      }
      if (!inAngle && token.text === ',') {
        flush();
        continue;
      }
    }
    current.push(token);
  }
  flush();
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out;
}
