/** El Torito and isohybrid options of an image: plain data, part of the library's public types. */
import type { Grub2Ids, KeptIds } from './hybrid.js';

export interface BootOptions {
  /** No-emulation BIOS image (isolinux.bin, GRUB2 eltorito.img): a file path in the tree. */
  readonly bios?: {
    readonly path: string;
    /** 512-byte sectors the firmware loads (default 4, as isolinux wants). */
    readonly loadSectors?: number;
    /** Patch the boot-info table into the image's copy (mkisofs `-boot-info-table`). */
    readonly bootInfoTable?: boolean;
    /** Also GRUB2's boot info at byte 2548 (`--grub2-boot-info`). */
    readonly grub2BootInfo?: boolean;
  };
  /** UEFI image (a FAT image such as efiboot.img): a file path in the tree. */
  readonly efi?: {
    readonly path: string;
    /** 512-byte sectors the firmware loads; default the whole image, ⌈size/512⌉ (as xorriso's replay). */
    readonly loadSectors?: number;
  };
  /** Where the catalog also appears as a file (`isolinux/boot.cat`); hidden when absent. */
  readonly catalogPath?: string;
}

export interface HybridOptions {
  /** 432 bytes of MBR boot code (syslinux isohdpfx.bin); zeros when absent (not bootable from USB). */
  readonly bootCode?: Uint8Array;
  /** Add the GPT (xorriso `-isohybrid-gpt-basdat` form) for UEFI boot from USB. */
  readonly gpt?: boolean;
  /**
   * With `gpt`: write syslinux `isohybrid --uefi`'s form instead (RHEL 7/8: 128 entries, GPT entry 1
   * over the ISO volume, image padded to whole cylinders past it), with these identifiers.
   */
  readonly isohybridUefi?: KeptIds;
  /** With `gpt` in xorriso's form: the MBR signature and GPT GUIDs to write (an image rebuilt keeps its own). */
  readonly keptIds?: KeptIds;
  /**
   * xorriso's `--grub2-mbr … -partition_offset 16 -append_partition 2 <ESP> …` form instead (RHEL 10):
   * `bootCode` is GRUB's boot_hybrid.img, the tree file `appendedEfi` is written as GPT partition 2
   * after the ISO data (in no directory; `boot.efi` may name it), and a second descriptor set and tree
   * at block 32 make GPT partition 1 an ISO 9660 volume of its own.
   */
  readonly grub2?: { readonly ids: Grub2Ids; readonly appendedEfi: string };
}
