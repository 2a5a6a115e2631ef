/**
 * HTML mail made safe to show: a whitelist, not a blacklist. The mail's HTML
 * is parsed (htmlparser2, the parser mailparser uses itself) and a new
 * document is written from it with only harmless elements and attributes,
 * every text and attribute value escaped again. Dropped: scripts, event
 * handlers (`onerror=` …), styles (inline styles would also be refused by
 * the page's CSP), forms and their fields, frames, objects, `<base>`,
 * `<meta>`, `<link>`, SVG and MathML. Images only from the message itself
 * (`cid:`, made `data:` URLs) or `data:` images; a remote image is replaced
 * by its address as text ("remote image not loaded"). Links keep their
 * address as a title, not as something to follow.
 *
 * This is the first of two walls: the result is shown in an iframe with
 * `sandbox` (no allow-scripts, no allow-forms, no allow-same-origin) and a
 * Content-Security-Policy that allows no script, no remote load and no form
 * (pages/webmail.tsx), so a hole here still runs and loads nothing.
 */
import { Parser } from 'htmlparser2';

export interface SanitizeOptions {
  /** `cid:` references (Content-ID without <>) -> a data: URL of the part. */
  cid?: Map<string, string>;
  /** The words put where a remote image was: `{url}` is its address. */
  remoteImage?: string;
}

export interface SanitizedHtml {
  html: string;
  /** What was removed, counted (shown to the student: "2 remote images not loaded"). */
  removed: { scripts: number; handlers: number; remoteImages: number; forms: number; other: number };
}

/** Elements kept (with their content). */
const KEEP = new Set([
  'a', 'abbr', 'address', 'article', 'aside', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption', 'center', 'cite', 'code', 'col', 'colgroup',
  'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'font', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr',
  'i', 'img', 'ins', 'kbd', 'li', 'main', 'mark', 'nav', 'ol', 'p', 'pre', 'q', 's', 'samp', 'section', 'small', 'span', 'strike', 'strong', 'sub',
  'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
]);
/** Elements dropped with everything inside them. */
const DROP_WITH_CONTENT = new Set(['script', 'style', 'template', 'noscript', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'svg', 'math', 'head', 'title', 'textarea', 'select', 'option', 'button', 'audio', 'video', 'canvas', 'noembed', 'noframes', 'xmp', 'plaintext']);
/** Form parts: the element goes, its content stays (a form's text is still shown). */
const FORM_PARTS = new Set(['form', 'input', 'fieldset', 'legend', 'label', 'datalist', 'output', 'keygen']);
const VOID = new Set(['br', 'hr', 'img', 'col', 'wbr']);

/** Attributes kept on any kept element (values escaped; no URL among them). */
const ATTRIBUTES = new Set(['title', 'alt', 'dir', 'lang', 'colspan', 'rowspan', 'align', 'valign', 'width', 'height', 'border', 'cellpadding', 'cellspacing', 'start', 'type', 'datetime', 'color', 'size', 'face', 'open', 'abbr', 'scope', 'span']);

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** A data: URL of an image type only (never data:text/html, svg or script). */
const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpe?g|webp|bmp);base64,[a-z0-9+/=\s]+$/i;

export function sanitizeHtml(input: string, o: SanitizeOptions = {}): SanitizedHtml {
  const removed = { scripts: 0, handlers: 0, remoteImages: 0, forms: 0, other: 0 };
  const out: string[] = [];
  /** Depth inside an element dropped with its content. */
  let dropping = 0;
  /** The elements opened in the output, to close them in order. */
  const open: string[] = [];

  const imageSource = (src: string): string | null => {
    const s = src.trim();
    if (/^cid:/i.test(s)) {
      const id = decodeURIComponent(s.slice(4)).replace(/^<|>$/g, '');
      return o.cid?.get(id) ?? null;
    }
    if (SAFE_DATA_IMAGE.test(s)) return s;
    return null;
  };

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const tag = name.toLowerCase();
        // Counted wherever they are (inside a dropped <head> or <svg> too), to say what was left out.
        if (tag === 'script') removed.scripts++;
        for (const a of Object.keys(attrs)) if (/^on/i.test(a)) removed.handlers++;
        if (dropping) {
          if (DROP_WITH_CONTENT.has(tag) && !VOID.has(tag)) dropping++;
          return;
        }
        if (DROP_WITH_CONTENT.has(tag)) {
          if (tag !== 'script') removed.other++;
          dropping = 1;
          return;
        }
        if (FORM_PARTS.has(tag)) {
          if (tag === 'form') removed.forms++;
          return;
        }
        if (!KEEP.has(tag)) {
          if (!['html', 'body', 'meta', 'link', 'base'].includes(tag)) removed.other++;
          return;
        }
        const kept: string[] = [];
        for (const [k, v] of Object.entries(attrs)) {
          const key = k.toLowerCase();
          if (ATTRIBUTES.has(key) && !/[<>]/.test(key)) kept.push(`${key}="${escapeAttr(v)}"`);
        }
        if (tag === 'img') {
          const src = attrs.src ?? '';
          const safe = src ? imageSource(src) : null;
          if (!safe) {
            if (src && !/^cid:/i.test(src.trim())) removed.remoteImages++;
            const words = (o.remoteImage ?? '[remote image not loaded: {url}]').replace('{url}', src.trim().slice(0, 200));
            out.push(`<span class="blocked-image" title="${escapeAttr(src.trim().slice(0, 500))}">${escapeText(words)}</span>`);
            return;
          }
          kept.push(`src="${escapeAttr(safe)}"`);
        }
        if (tag === 'a' && attrs.href) {
          // The address as a title: nothing in the frame is followed (the sandbox would not let it anyway).
          const href = attrs.href.trim();
          if (/^(https?:|mailto:)/i.test(href) && !kept.some((k) => k.startsWith('title='))) kept.push(`title="${escapeAttr(href.slice(0, 500))}"`);
          kept.push('class="mail-link"');
        }
        out.push(`<${tag}${kept.length ? ' ' + kept.join(' ') : ''}>`);
        if (!VOID.has(tag)) open.push(tag);
      },
      ontext(text) {
        if (!dropping) out.push(escapeText(text));
      },
      onclosetag(name, implied) {
        const tag = name.toLowerCase();
        if (dropping) {
          if (DROP_WITH_CONTENT.has(tag) && !VOID.has(tag)) dropping--;
          return;
        }
        if (VOID.has(tag) || !KEEP.has(tag)) return;
        const at = open.lastIndexOf(tag);
        if (at < 0) return;
        while (open.length > at) out.push(`</${open.pop()}>`);
        void implied;
      },
      oncomment() {
        // Comments go (conditional comments of old mail programs too).
      },
      onprocessinginstruction() {
        // <!DOCTYPE …>, <?xml …?>: not kept.
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
  );
  parser.write(input);
  parser.end();
  while (open.length) out.push(`</${open.pop()}>`);
  return { html: out.join(''), removed };
}

/**
 * The whole document for the sandboxed frame (its `srcdoc`): the sanitised
 * body, a CSP of its own that allows no script, no remote anything, no
 * form (on top of the page's, which a srcdoc frame inherits), and nothing
 * else (styles are the page's own, in no style element: the CSP of the page
 * forbids inline ones).
 */
export function frameDocument(body: string, lang: string): string {
  const csp = "default-src 'none'; img-src data:; style-src 'none'; script-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'; connect-src 'none'; font-src 'none'; media-src 'none'; object-src 'none'";
  return `<!DOCTYPE html><html lang="${escapeAttr(lang)}"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}"><meta name="referrer" content="no-referrer"></head><body>${body}</body></html>`;
}
