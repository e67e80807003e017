/** What `verify` finds: problems with a severity, and facts worth showing. */
export interface Finding {
  severity: 'error' | 'warning' | 'info';
  /** What it is about: a file on the medium, a kernel, or '' for the medium. */
  subject: string;
  message: string;
}

export interface VerifyReport {
  medium: string;
  /** rhdd3, rhel5, xenserver-legacy, … */
  kind: string;
  ok: boolean;
  findings: Finding[];
  /** The medium-specific account (disks, packages, kernels…), for --json and the text view. */
  details: unknown;
  text: string;
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
  summary(): string {
    const e = this.list.filter((f) => f.severity === 'error').length;
    const w = this.list.filter((f) => f.severity === 'warning').length;
    return `${e === 0 ? 'OK' : 'FAILED'}: ${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}`;
  }
  text(): string {
    return this.list
      .filter((f) => f.severity !== 'info')
      .map((f) => `${f.severity}: ${f.subject ? `${f.subject}: ` : ''}${f.message}`)
      .join('\n');
  }
}
