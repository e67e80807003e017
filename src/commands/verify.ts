import type { Command } from 'commander';
import { verify } from '../api.js';
import { action, commandContext, printJson, VerificationFailed, say } from './common.js';

/** `FILE`, or `KERNEL=FILE` for one kernel (a path may hold `=` when no kernel-like word precedes it). */
function kabiSpec(text: string): { file: string; kernel?: string } {
  const eq = text.indexOf('=');
  const kernel = text.slice(0, eq);
  return eq > 0 && /^[A-Za-z0-9._+~^-]+$/.test(kernel) ? { kernel, file: text.slice(eq + 1) } : { file: text };
}

export function register(program: Command): void {
  program
    .command('verify')
    .description("check a medium the way its installer does (exit 1 when the installer would fail)")
    .argument('<medium>', 'ISO image, folder, USB (FAT) image or PXE cpio(.gz) overlay')
    .option('--kernel <uname_r>', 'installer kernel to check against (repeatable); default: every kernel the packages name', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--release <name>', 'installer kernel by release name, e.g. rhel-9.4 (repeatable; rhel-9.4.aarch64 for another arch)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--kabi <file>', 'Module.symvers or kernel-abi-stablelist file to check every module against (repeatable; KERNEL=FILE or rhel-9.4=FILE for one kernel)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--dist <dist>', 'SUSE driver updates: the installer dist to check against (repeatable): sles15, leap15.6, sle15, opensuse-leap16.0, 16.0, …', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--key <file>', 'public key file to check signatures with (XenServer update packs: the key users import; SUSE updates: <medium>.asc)')
    .option('--ca <pem>', 'certificates an X.509 signature must chain to (ESXi VIBs); without it only the signature itself is checked')
    .option('--no-signature-check', 'signatures that cannot be checked (no --key) are a warning, not an error')
    .option('--json', 'print one JSON document on stdout')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action(
      action(async (path: string, opts: { kernel: string[]; dist: string[]; release: string[]; kabi: string[]; key?: string; ca?: string; signatureCheck: boolean; json?: boolean; progress?: boolean }) => {
        const report = await verify(path, { ctx: commandContext(opts, { warnings: false }), kernels: [...opts.kernel, ...opts.release], kabi: opts.kabi.map(kabiSpec), dists: opts.dist, ...(opts.key ? { key: opts.key } : {}), ...(opts.ca ? { ca: opts.ca } : {}), signatureCheck: opts.signatureCheck });
        if (opts.json) printJson({ path: report.medium, kind: report.kind, ok: report.ok, findings: report.findings, details: report.details });
        else say(`${report.text}\n`);
        if (!report.ok) throw new VerificationFailed(`${path}: verification failed`);
      }, (path) => path),
    );
}
