/**
 * Attachments' file names and download headers, made safe: a name from a
 * mail is anything its sender wrote (`../../etc/passwd`, `<img onerror=…>.png`,
 * control characters, 300 characters). The name kept is its last path part
 * with markup, control and reserved characters replaced, not starting with
 * a dot, at most 120 characters with its extension; the header gives an
 * ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987).
 */

/** A file name safe on every system and as text in a page: never empty. */
export function safeFilename(name: string | undefined | null, fallback = 'attachment'): string {
  let n = (name ?? '').normalize('NFC');
  // The last path part (Windows and Unix separators).
  n = n.split(/[\\/]/).pop() ?? '';
  n = n
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[<>:"|?*&;`$%{}[\]#']/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '');
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(n)) n = `_${n}`;
  if (n.length > 120) {
    const dot = n.lastIndexOf('.');
    const ext = dot > 0 && n.length - dot <= 10 ? n.slice(dot) : '';
    n = n.slice(0, 120 - ext.length) + ext;
  }
  return n || fallback;
}

/** `attachment; filename="ascii"; filename*=UTF-8''…` for a safe name. */
export function contentDisposition(name: string, kind: 'attachment' | 'inline' = 'attachment'): string {
  const safe = safeFilename(name);
  const ascii = safe.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** A MIME type fit for a header: `type/subtype` only, else application/octet-stream. */
export function safeContentType(type: string | undefined): string {
  const t = (type ?? '').trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,127}$/.test(t) ? t : 'application/octet-stream';
}

/** Bytes in words: 1.5 MB, 512 KB, 300 bytes (decimal units, as mail programs say them). */
export function sizeInWords(n: number, lang: 'en' | 'id' = 'en'): string {
  const dec = (x: number) => (lang === 'id' ? x.toFixed(1).replace('.', ',') : x.toFixed(1)).replace(/[.,]0$/, '');
  if (n >= 1024 * 1024) return `${dec(n / (1024 * 1024))} MB`;
  if (n >= 1024) return `${dec(n / 1024)} KB`;
  return lang === 'id' ? `${n} bita` : `${n} bytes`;
}
