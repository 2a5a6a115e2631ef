/**
 * What kind of attachments a message carries, for the session record
 * (sessions.ts) and so for `npx mail-lab check attachments`: MIME parts that
 * are attachments (RFC 2183 `Content-Disposition: attachment`, or a part
 * with a file name) and uuencoded files in the text (`begin 644 name` …
 * `end`, the way before MIME). Counts only; the message is not kept.
 * Looks at the first {@link SCAN_LIMIT} octets, so a 10 MB message costs
 * one bounded regular-expression pass.
 */
import type { AttachmentCount } from './sessions';

export const SCAN_LIMIT = 2 * 1024 * 1024;

export function attachmentCount(message: Buffer): AttachmentCount | undefined {
  const text = message.subarray(0, SCAN_LIMIT).toString('latin1');
  // A MIME part header with a disposition of attachment, or naming a file (RFC 2183, RFC 2045 name=).
  const mime = (text.match(/^Content-Disposition:[ \t]*attachment\b/gim) ?? []).length || (text.match(/^Content-Type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*;[ \t\r\n]*name=/gim) ?? []).length;
  // uuencode: "begin <mode> <name>", then lines, then "end" (POSIX uuencode).
  const uuencode = [...text.matchAll(/^begin [0-7]{3,4} \S[^\r\n]*\r?\n[\s\S]*?^end\r?$/gm)].length;
  return mime || uuencode ? { mime, uuencode } : undefined;
}
