/**
 * A small Markdown reader for the lab's worksheets (docs/guide/en|id/*.md),
 * read-only: headings, paragraphs, fenced code, lists (with code inside
 * items), tables, block quotes, rules; inline code, bold, italics and
 * links. Everything becomes hono/jsx elements, so every text is escaped:
 * no HTML of the file passes through. A link to another worksheet
 * (`greylisting.md`, `../id/greylisting.md`) goes to its web page
 * (`linkTo`); a link elsewhere in the repository is shown as its text.
 */
import type { Child } from 'hono/jsx';

export interface MarkdownOptions {
  /** The web address of a worksheet link (`../id/x.md` seen from `lang`), or null to show the text only. */
  linkTo: (href: string) => string | null;
}

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'code'; lang: string; text: string }
  | { kind: 'para'; text: string }
  | { kind: 'list'; ordered: boolean; start: number; items: string[][] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'quote'; lines: string[] }
  | { kind: 'rule' };

const FENCE = /^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$/;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,3}[.)])\s+(.*)$/;
const cells = (row: string) =>
  row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));

/** The blocks of a text (recursive for list items). */
export function parseBlocks(text: string): Block[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  const blank = (l: string | undefined) => l === undefined || l.trim() === '';
  while (i < lines.length) {
    const line = lines[i];
    if (blank(line)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const indent = fence[1].length;
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i].trim().startsWith(fence[2]) && lines[i].trim().replace(/[`~]/g, '') === '')) {
        body.push(lines[i].slice(Math.min(indent, lines[i].length - lines[i].trimStart().length)));
        i++;
      }
      i++;
      blocks.push({ kind: 'code', lang: fence[3], text: body.join('\n') });
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      blocks.push({ kind: 'heading', level: heading[1].length, text: heading[2] });
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push({ kind: 'rule' });
      i++;
      continue;
    }
    if (line.trimStart().startsWith('|') && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) {
      const head = cells(line);
      const rows: string[][] = [];
      i += 2;
      while (i < lines.length && lines[i].trimStart().startsWith('|')) rows.push(cells(lines[i++]));
      blocks.push({ kind: 'table', head, rows });
      continue;
    }
    if (/^\s*>/.test(line)) {
      const q: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) q.push(lines[i++].replace(/^\s*>\s?/, ''));
      blocks.push({ kind: 'quote', lines: q });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[2]);
      const baseIndent = item[1].length;
      const items: string[][] = [];
      while (i < lines.length) {
        // Blank lines between two items of the same list (a loose list).
        let j = i;
        while (j < lines.length && blank(lines[j])) j++;
        if (j > i && items.length) {
          const next = LIST_ITEM.exec(lines[j] ?? '');
          if (!next || next[1].length !== baseIndent || /\d/.test(next[2]) !== ordered) break;
          i = j;
        }
        const m = LIST_ITEM.exec(lines[i]);
        if (!m || m[1].length !== baseIndent || /\d/.test(m[2]) !== ordered) break;
        const width = m[1].length + m[2].length + 1;
        const body = [m[3]];
        i++;
        // The item goes on while lines are indented past its marker, or blank before such a line.
        while (i < lines.length) {
          const l = lines[i];
          if (blank(l)) {
            let j = i;
            while (j < lines.length && blank(lines[j])) j++;
            if (j < lines.length && lines[j].length - lines[j].trimStart().length >= width) {
              for (; i < j; i++) body.push('');
              continue;
            }
            break;
          }
          const indent = l.length - l.trimStart().length;
          if (indent >= width) body.push(l.slice(width));
          else if (indent > baseIndent && !LIST_ITEM.test(l)) body.push(l.trimStart());
          else if (!LIST_ITEM.test(l) && !FENCE.test(l) && indent <= baseIndent && body.length && !blank(body[body.length - 1])) body.push(l.trimStart());
          else break;
          i++;
        }
        items.push(body);
      }
      blocks.push({ kind: 'list', ordered, start: ordered ? Number(/\d+/.exec(item[2])![0]) : 1, items });
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && !blank(lines[i]) && !FENCE.test(lines[i]) && !/^#{1,6}\s/.test(lines[i]) && !(para.length && LIST_ITEM.test(lines[i])) && !/^\s*>/.test(lines[i])) para.push(lines[i++].trim());
    blocks.push({ kind: 'para', text: para.join(' ') });
  }
  return blocks;
}

/** Inline Markdown: `code`, **bold**, *em* / _em_, [text](href). */
export function Inline(props: { text: string; o: MarkdownOptions }): Child {
  const out: Child[] = [];
  // An emphasis may hold strong parts (`*Lesson: **2.C** (…)*`): its closing star is one not doubled.
  const re = /`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\*(?![*\s])((?:\*\*.+?\*\*|[^*])+?)\*(?!\*)|(?<![\w])_([^_\s][^_]*?)_(?![\w])|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (const m of props.text.matchAll(re)) {
    if (m.index! > last) out.push(props.text.slice(last, m.index));
    if (m[1] !== undefined) out.push(<code>{m[1]}</code>);
    else if (m[2] !== undefined || m[3] !== undefined) out.push(<strong>{<Inline text={m[2] ?? m[3]} o={props.o} />}</strong>);
    else if (m[4] !== undefined || m[5] !== undefined) out.push(<em>{<Inline text={m[4] ?? m[5]} o={props.o} />}</em>);
    else {
      const href = props.o.linkTo(m[7]);
      const text = <Inline text={m[6]} o={props.o} />;
      out.push(href ? <a href={href}>{text}</a> : /^https?:\/\//.test(m[7]) ? <a href={m[7]} rel="noopener noreferrer">{text}</a> : text);
    }
    last = m.index! + m[0].length;
  }
  if (last < props.text.length) out.push(props.text.slice(last));
  return <>{out}</>;
}

function BlockView(props: { b: Block; o: MarkdownOptions }): Child {
  const { b, o } = props;
  switch (b.kind) {
    case 'heading': {
      const inner = <Inline text={b.text} o={o} />;
      return b.level === 1 ? <h1>{inner}</h1> : b.level === 2 ? <h2>{inner}</h2> : b.level === 3 ? <h3>{inner}</h3> : <h4>{inner}</h4>;
    }
    case 'code':
      return (
        <pre class={b.lang ? `code lang-${b.lang}` : 'code'}>
          <code>{b.text}</code>
        </pre>
      );
    case 'para':
      return (
        <p>
          <Inline text={b.text} o={o} />
        </p>
      );
    case 'rule':
      return <hr />;
    case 'quote':
      return <blockquote>{parseBlocks(b.lines.join('\n')).map((x) => <BlockView b={x} o={o} />)}</blockquote>;
    case 'table':
      return (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                {b.head.map((h) => (
                  <th>
                    <Inline text={h} o={o} />
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {b.rows.map((r) => (
                <tr>
                  {r.map((c) => (
                    <td>
                      <Inline text={c} o={o} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    case 'list': {
      const items = b.items.map((lines) => {
        const inner = parseBlocks(lines.join('\n'));
        // A tight item (one paragraph) without <p>.
        if (inner.length === 1 && inner[0].kind === 'para') return <li><Inline text={inner[0].text} o={o} /></li>;
        return <li>{inner.map((x) => <BlockView b={x} o={o} />)}</li>;
      });
      return b.ordered ? <ol start={b.start}>{items}</ol> : <ul>{items}</ul>;
    }
  }
}

export function Markdown(props: { text: string; o: MarkdownOptions }): Child {
  return <>{parseBlocks(props.text).map((b) => <BlockView b={b} o={props.o} />)}</>;
}

/** The first heading of a worksheet (its title). */
export function markdownTitle(text: string): string | null {
  return /^#\s+(.+?)\s*$/m.exec(text)?.[1].replace(/[*_`]/g, '') ?? null;
}
