import { type Command, Option } from 'commander';
import { UserError, writeIso, type WriteIsoOptions } from '../api.js';
import { action, commandContext, printJson, checksums, type GlobalOpts, say } from './common.js';

interface IsoCommandOpts extends GlobalOpts {
  output: string;
  volid: string;
  joliet: boolean;
  jolietLong?: boolean;
  implantMd5?: boolean;
  supportedIso?: boolean;
  md5?: boolean;
  sha256?: boolean;
  bootBios?: string;
  bootEfi?: string;
  bootLoadSize?: string;
  bootInfoTable?: boolean;
  grub2BootInfo?: boolean;
  bootCatalog?: string;
  hybrid?: boolean | string;
  isohybridMbr?: string;
  publisher?: string;
  preparer?: string;
  application?: string;
  sysid?: string;
  isoLevel: string;
}

const treePath = (p: string) => p.replace(/^\/+/, '');

/** `dudkit iso DIR -o OUT.iso …`: the writer on its own, a mkisofs-like subset. */
async function isoCommand(dir: string, opts: IsoCommandOpts): Promise<void> {
  const ctx = commandContext(opts);
  const options: WriteIsoOptions = {
    volumeId: opts.volid,
    ...(opts.sysid !== undefined ? { systemId: opts.sysid } : {}),
    ...(opts.publisher !== undefined ? { publisher: opts.publisher } : {}),
    ...(opts.preparer !== undefined ? { preparer: opts.preparer } : {}),
    ...(opts.application !== undefined ? { application: opts.application } : {}),
    joliet: opts.joliet ? { longNames: Boolean(opts.jolietLong) } : false,
    level: opts.isoLevel === '3' ? 3 : 1,
    implantMd5: Boolean(opts.implantMd5),
    supportedIso: Boolean(opts.supportedIso),
    checksums: [...(opts.md5 ? (['md5'] as const) : []), ...(opts.sha256 ? (['sha256'] as const) : [])],
    ctx,
  };
  if (opts.bootBios || opts.bootEfi) {
    const loadSectors = opts.bootLoadSize === undefined ? 4 : Number(opts.bootLoadSize);
    options.boot = {
      ...(opts.bootBios ? { bios: { path: opts.bootBios, loadSectors, bootInfoTable: Boolean(opts.bootInfoTable), grub2BootInfo: Boolean(opts.grub2BootInfo) } } : {}),
      ...(opts.bootEfi ? { efi: { path: opts.bootEfi } } : {}),
      ...(opts.bootCatalog ? { catalogPath: opts.bootCatalog } : {}),
    };
  } else if (opts.bootInfoTable || opts.bootCatalog || opts.bootLoadSize || opts.grub2BootInfo) {
    throw new UserError('boot options need --boot-bios or --boot-efi');
  }
  if (opts.hybrid !== undefined && opts.hybrid !== false) {
    if (!opts.isohybridMbr) ctx.warn('--hybrid without --isohybrid-mbr: the MBR has a partition table but no boot code, so the image is readable but not bootable from USB');
    options.hybrid = { gpt: opts.hybrid === 'gpt', ...(opts.isohybridMbr ? { mbrFile: opts.isohybridMbr } : {}) };
  } else if (opts.isohybridMbr) {
    throw new UserError('--isohybrid-mbr needs --hybrid');
  }

  const result = await writeIso(dir, opts.output, options);
  if (opts.json) {
    const { path, size, md5, sha256, implantedMd5, sidecars } = result;
    printJson({ path, kind: 'iso', size, checksums: checksums({ md5, sha256 }), sidecars, volumeId: opts.volid, ...(implantedMd5 ? { implantedMd5 } : {}) });
  } else {
    const lines = [`wrote ${opts.output} (${result.size} bytes)`];
    if (result.implantedMd5) lines.push(`media-check MD5 ${result.implantedMd5}`);
    for (const s of result.sidecars) lines.push(`wrote ${s}`);
    say(`${lines.join('\n')}\n`);
  }
}

export function register(program: Command): void {
  // `-V` is mkisofs's volume id here; without positional options commander would read it as the
  // program's `--version` wherever it appears.
  program.enablePositionalOptions();
  program
    .command('iso')
    .description('write a folder as an ISO 9660 image with Rock Ridge and Joliet (a mkisofs-like subset: -o, -V, -R, -r, -J, -l are understood)')
    .argument('<dir>', 'folder whose contents become the image root')
    .requiredOption('-o, --output <file>', 'image to write (atomically)')
    .option('-V, --volid <label>', 'volume id, printable ASCII, at most 32 characters', 'CDROM')
    .addOption(new Option('--iso-level <level>', 'ISO 9660 level: 1 (8.3 names), or 3 to also allow files of 4 GiB and more (multi-extent)').choices(['1', '3']).default('1'))
    // mkisofs spellings of what dudkit always writes, accepted so mkisofs command lines work
    .option('-R, --rock', 'Rock Ridge names, modes and links (always written; mkisofs -R)')
    .option('-r, --rational-rock', 'mkisofs -r: the same Rock Ridge tree (uid and gid are always 0; modes are kept as in DIR)')
    .option('-l, --full-iso9660-filenames', 'accepted for mkisofs -l: the ISO 9660 names stay level-1 8.3; Rock Ridge and Joliet carry the full names')
    .option('-J, --joliet', 'add a Joliet tree (the default; mkisofs -J)', true)
    .option('--no-joliet', 'no Joliet tree')
    .option('--joliet-long', 'allow 103-character Joliet names (non-standard, like -joliet-long); longer ones are cut with a warning, as xorriso cuts them past 64')
    .option('--implant-md5', 'implant the media-check MD5 (what implantisomd5 writes)')
    .option('--supported-iso', 'mark the media-check record RHLISOSTATUS=1')
    .option('--md5', 'write OUT.md5 (md5sum format)')
    .option('--sha256', 'write OUT.sha256 (sha256sum format)')
    .option('--boot-bios <path>', 'El Torito no-emulation BIOS boot image, a path inside DIR (isolinux/isolinux.bin)')
    .option('--boot-load-size <sectors>', 'sectors the BIOS loads (default 4)')
    .option('--boot-info-table', 'patch the boot-info table into the BIOS image copy')
    .option('--grub2-boot-info', "also patch GRUB2's boot info at byte 2548")
    .option('--boot-efi <path>', 'El Torito UEFI boot image (a FAT image), a path inside DIR')
    .option('--boot-catalog <path>', 'also show the boot catalog as this file (isolinux/boot.cat)')
    .addOption(new Option('--hybrid [kind]', 'isohybrid system area: mbr (default) or gpt (for UEFI boot from USB)').choices(['mbr', 'gpt']))
    .option('--isohybrid-mbr <file>', '432-byte MBR boot code (syslinux isohdpfx.bin)')
    .option('--publisher <text>', 'publisher id')
    .option('--preparer <text>', 'data preparer id')
    .option('--application <text>', 'application id')
    .option('--sysid <text>', 'system id')
    .option('--json', 'print one JSON document on stdout')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action(action(isoCommand));
}
