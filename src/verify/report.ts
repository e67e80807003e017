/** What `verify` finds: problems with a severity, and facts worth showing. */
export interface Finding {
  severity: 'error' | 'warning' | 'info';
  /** What it is about: a file on the medium, a kernel, or '' for the medium. */
  subject: string;
  message: string;
}

export class Findings {
  readonly list: Finding[] = [];
  error(subject: string, message: string): void {
    this.list.push({ severity: 'error', subject, message });
  }
  warning(subject: string, message: string): void {
    this.list.push({ severity: 'warning', subject, message });
  }
  info(subject: string, message: string): void {
    this.list.push({ severity: 'info', subject, message });
  }
  get ok(): boolean {
    return !this.list.some((f) => f.severity === 'error');
  }
}

/** The errors and warnings, one line each (infos are in the JSON only). */
export function findingsText(list: readonly Finding[]): string {
  return list
    .filter((f) => f.severity !== 'info')
    .map((f) => `${f.severity}: ${f.subject ? `${f.subject}: ` : ''}${f.message}`)
    .join('\n');
}

/** The verdict line: OK or FAILED with the counts. */
export function verdict(list: readonly Finding[]): string {
  const e = list.filter((f) => f.severity === 'error').length;
  const w = list.filter((f) => f.severity === 'warning').length;
  return `${e === 0 ? 'OK' : 'FAILED'}: ${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}`;
}
