/**
 * A lab definition's text with additions made the way a person would type
 * them into lab.yaml (the `change-the-lab` self-check reloads it): accounts,
 * aliases, MX records and `relayDomains` added to a domain unless they are
 * there already. The yaml library edits the document itself, so the rest of
 * the text (comments, order) stays as it was.
 */
import { isMap, isSeq, parseDocument, type Document } from 'yaml';

export interface DomainAdditions {
  accounts?: { user: string; name?: string; passwordHash?: string; password?: string }[];
  aliases?: Record<string, string[]>;
  mx?: { host: string; preference: number }[];
  relayDomains?: string[];
}

export class DefinitionEditError extends Error {
  override readonly name = 'DefinitionEditError';
}

function domainIndex(doc: Document, name: string): number {
  const domains = doc.get('domains');
  if (!isSeq(domains)) throw new DefinitionEditError('the lab definition has no list of domains');
  const i = domains.items.findIndex((d) => isMap(d) && String(d.get('name')).toLowerCase() === name.toLowerCase());
  if (i < 0) throw new DefinitionEditError(`the lab definition has no domain ${name}`);
  return i;
}

/** The items of a list in the document, made (empty, block style) when missing. */
function listOf(doc: Document, path: (string | number)[]): unknown[] {
  const node = doc.getIn(path);
  if (isSeq(node)) return node.toJSON() as unknown[];
  doc.setIn(path, doc.createNode([]));
  return [];
}

/** `text` with `add` (domain name -> additions) made where missing. */
export function addToDefinition(text: string, add: Record<string, DomainAdditions>): string {
  const doc = parseDocument(text);
  for (const [name, a] of Object.entries(add)) {
    const i = domainIndex(doc, name);
    const at = (...p: (string | number)[]) => ['domains', i, ...p];
    for (const acc of a.accounts ?? []) {
      const have = listOf(doc, at('accounts')) as { user?: string }[];
      if (!have.some((x) => x.user === acc.user)) doc.addIn(at('accounts'), doc.createNode(acc, { flow: true }));
    }
    for (const [alias, targets] of Object.entries(a.aliases ?? {})) {
      if (!doc.hasIn(at('aliases', alias))) doc.setIn(at('aliases', alias), doc.createNode(targets, { flow: true }));
    }
    if (a.mx?.length) {
      // Without `mx` a domain has its mail host at preference 10: written out first, so the new ones come after it.
      if (!isSeq(doc.getIn(at('mx')))) {
        listOf(doc, at('mx'));
        doc.addIn(at('mx'), doc.createNode({ host: String(doc.getIn(at('mailHost'))), preference: 10 }, { flow: true }));
      }
      const have = listOf(doc, at('mx')) as { host?: string }[];
      for (const m of a.mx) if (!have.some((x) => x.host === m.host)) doc.addIn(at('mx'), doc.createNode(m, { flow: true }));
    }
    for (const r of a.relayDomains ?? []) {
      const have = listOf(doc, at('relayDomains')) as string[];
      if (!have.includes(r)) doc.addIn(at('relayDomains'), r);
    }
  }
  return doc.toString();
}
