/**
 * Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3): printable
 * US-ASCII stands for itself except `&`, which is written `&-`; anything
 * else is UTF-16BE in base64 with `,` for `/`, no padding, between `&` and `-`.
 */

export function encodeMailboxName(name: string): string {
  let out = '';
  let pending = '';
  const flush = () => {
    if (!pending) return;
    const utf16 = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) utf16.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += '&' + utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    pending = '';
  };
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else pending += ch;
  }
  flush();
  return out;
}

/**
 * Decodes a modified UTF-7 name; throws on malformed shifts (the command
 * gets a NO). `lenient` (LIST patterns) keeps a malformed shift as it is.
 */
export function decodeMailboxName(encoded: string, lenient = false): string {
  let out = '';
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded[i];
    if (ch !== '&') {
      out += ch;
      continue;
    }
    const end = encoded.indexOf('-', i + 1);
    const b64 = end < 0 ? '' : encoded.slice(i + 1, end);
    if (end < 0 || (b64 !== '' && !/^[A-Za-z0-9+,]+$/.test(b64))) {
      if (!lenient) throw new Error(end < 0 ? 'unterminated modified UTF-7 shift' : 'bad modified UTF-7');
      out += ch;
      continue;
    }
    i = end;
    if (b64 === '') {
      out += '&';
      continue;
    }
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    for (let j = 0; j + 1 < bytes.length; j += 2) out += String.fromCharCode(bytes.readUInt16BE(j));
  }
  return out;
}
