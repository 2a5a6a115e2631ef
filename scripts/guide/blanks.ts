/**
 * The blanks of a printed worksheet, as a markdown-it plugin: a line with
 * Name / Class / Lab number to fill in above the worksheet's title, and ruled
 * lines for the answer after every question of its questions section
 * ("## Questions" in en/, "## Pertanyaan" in id/). A question is an item of
 * the section's top-level list; a section written as paragraphs gets the
 * lines after each paragraph. Pages without such a section (the glossary)
 * get the name line only when asked (`nameLine`).
 */
import type MarkdownIt from 'markdown-it';
import type { GuideLang } from './contents';

/** The headings of the questions section, per language. */
export const QUESTION_HEADINGS: Record<GuideLang, RegExp> = {
  en: /^questions\b/i,
  id: /^pertanyaan\b/i,
};

const LABELS: Record<GuideLang, { name: string; cls: string; lab: string; answer: string }> = {
  en: { name: 'Name', cls: 'Class', lab: 'Lab number', answer: 'answer' },
  id: { name: 'Nama', cls: 'Kelas', lab: 'Nomor lab', answer: 'jawaban' },
};

/** How many ruled lines follow each question. @default 3 */
export const ANSWER_LINES = 3;

export interface BlanksOptions {
  lang: GuideLang;
  /** Put the Name / Class / Lab number line above the first heading. @default true */
  nameLine?: boolean;
  /** Ruled lines after each question. @default ANSWER_LINES */
  lines?: number;
}

/** The Name / Class / Lab number line (HTML). */
export function nameLineHtml(lang: GuideLang): string {
  const l = LABELS[lang];
  const field = (label: string, cls: string) => `<span class="field ${cls}">${label}: <span class="blank"></span></span>`;
  return `<div class="name-line">${field(l.name, 'name')}${field(l.cls, 'class')}${field(l.lab, 'lab')}</div>\n`;
}

/** The ruled answer lines after one question (HTML). */
export function answerLinesHtml(lang: GuideLang, lines = ANSWER_LINES): string {
  return `<div class="answer" aria-label="${LABELS[lang].answer}">${'<div class="rule"></div>'.repeat(lines)}</div>\n`;
}

export function worksheetBlanks(md: MarkdownIt.MarkdownIt, opts: BlanksOptions): void {
  const lines = opts.lines ?? ANSWER_LINES;
  const heading = QUESTION_HEADINGS[opts.lang];
  md.core.ruler.push('worksheet_blanks', (state: MarkdownIt.StateCore) => {
    const tokens = state.tokens;
    const html = (content: string) => {
      const t = new state.Token('html_block', '', 0);
      t.content = content;
      t.block = true;
      return t;
    };
    const out: MarkdownIt.Token[] = [];
    let nameDone = opts.nameLine === false;
    let inQuestions = false;
    /** The nesting level of the questions' own list items (the first list met in the section). */
    let itemLevel: number | undefined;
    /** Whether the questions section has a list (else its paragraphs are the questions). */
    let hasList = false;
    const sectionHasList = (from: number) => {
      for (let j = from; j < tokens.length; j++) {
        const u = tokens[j]!;
        if (u.type === 'heading_open' && (u.tag === 'h1' || u.tag === 'h2')) return false;
        if ((u.type === 'ordered_list_open' || u.type === 'bullet_list_open') && u.level === 0) return true;
      }
      return false;
    };
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.type === 'heading_open') {
        if (!nameDone) {
          out.push(html(nameLineHtml(opts.lang)));
          nameDone = true;
        }
        if (t.tag === 'h1' || t.tag === 'h2') {
          const text = tokens[i + 1]?.type === 'inline' ? tokens[i + 1]!.content.trim() : '';
          inQuestions = t.tag === 'h2' && heading.test(text);
          itemLevel = undefined;
          hasList = inQuestions && sectionHasList(i + 1);
        }
      }
      if (inQuestions && t.type === 'list_item_open' && itemLevel === undefined) itemLevel = t.level;
      if (inQuestions && t.type === 'list_item_close' && t.level === itemLevel) {
        out.push(html(answerLinesHtml(opts.lang, lines)));
      }
      out.push(t);
      if (inQuestions && !hasList && t.type === 'paragraph_close' && t.level === 0) {
        out.push(html(answerLinesHtml(opts.lang, lines)));
      }
    }
    state.tokens = out;
  });
}
