import type { Command } from 'commander';
import { verify } from '../api.js';
import { action, printJson, VerificationFailed, say } from './common.js';

export function register(program: Command): void {
  program
    .command('verify')
    .description("check a medium the way its installer does (exit 1 when the installer would fail)")
    .argument('<medium>', 'ISO image, folder, USB (FAT) image or PXE cpio(.gz) overlay')
    .option('--kernel <uname_r>', 'installer kernel to check against (repeatable); default: every kernel the packages name', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--key <file>', 'public key file to check signatures with (XenServer update packs: the key users import)')
    .option('--ca <pem>', 'certificates an X.509 signature must chain to (ESXi VIBs); without it only the signature itself is checked')
    .option('--no-signature-check', 'signatures that cannot be checked (no --key) are a warning, not an error')
    .option('--json', 'print one JSON document on stdout')
    .action(
      action(async (path: string, opts: { kernel: string[]; key?: string; ca?: string; signatureCheck: boolean; json?: boolean }) => {
        const report = await verify(path, { kernels: opts.kernel, ...(opts.key ? { key: opts.key } : {}), ...(opts.ca ? { ca: opts.ca } : {}), signatureCheck: opts.signatureCheck });
        if (opts.json) printJson({ medium: report.medium, kind: report.kind, ok: report.ok, findings: report.findings, details: report.details });
        else say(`${report.text}\n`);
        if (!report.ok) throw new VerificationFailed(`${path}: verification failed`);
      }, (path) => path),
    );
}
