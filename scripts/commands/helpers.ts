/**
 * What the CLI hands every group of commands it registers (scripts/cli.ts):
 * the lab the command is about (`--lab`, `--config`), output, the language
 * of the output (`--lang`), and the usage error that exits 2 without a stack
 * trace.
 */
import type { LabTarget } from '../lab-target';
import type { Lang } from '../i18n/lang';

export interface CommandHelpers {
  /** The running lab N as the CLI talks to it (its definition read and checked on first use). */
  target: () => LabTarget;
  out: (line?: string) => void;
  /** The language of this run: `--lang`, else MAIL_LAB_LANG, else LANG (scripts/i18n/lang.ts). */
  lang: () => Lang;
  /** The CLI's usage error: printed without a trace, exit status 2. */
  UsageError: new (message: string) => Error;
}
