/**
 * The navigation of the web pages: the instructor's (Class, Topology, Queue,
 * Message path, Mailbox file, DNS) and the students' (Webmail, My lab). A
 * page author adds or changes an entry here: its message key (i18n.ts or the
 * page's own addMessages) and its path for the lab shown (`lab` is the lab
 * of the page, or the first running lab for the instructor).
 */
import type { Role } from './auth/sessions';

export interface NavEntry {
  /** Which entry is the current page (a page passes it to the layout). */
  id: string;
  /** i18n key of the label. */
  label: string;
  /** The path for lab `n` (null: no lab known yet, the entry is shown without a lab). */
  href: (n: number | null) => string;
}

const labPath = (suffix: string, fallback: string) => (n: number | null) => (n === null ? fallback : `/lab/${n}/${suffix}`);

export const INSTRUCTOR_NAV: NavEntry[] = [
  { id: 'class', label: 'nav.class', href: () => '/class' },
  { id: 'topology', label: 'nav.topology', href: labPath('topology', '/class') },
  { id: 'queue', label: 'nav.queue', href: labPath('queue', '/class') },
  { id: 'path', label: 'nav.path', href: labPath('path', '/class') },
  { id: 'mailbox', label: 'nav.mailbox', href: labPath('mailbox', '/class') },
  { id: 'dns', label: 'nav.dns', href: labPath('dns', '/class') },
];

export const STUDENT_NAV: NavEntry[] = [
  { id: 'webmail', label: 'nav.webmail', href: labPath('webmail', '/') },
  { id: 'mylab', label: 'nav.mylab', href: labPath('', '/') },
];

export const navFor = (role: Role | undefined): NavEntry[] => (role === 'instructor' ? INSTRUCTOR_NAV : role === 'student' ? STUDENT_NAV : []);
