import type { Layout } from './types.js';

export interface LayoutEntry {
  readonly kind: string;
  readonly summary: string;
  /**
   * The output name when `out:` is not given, in words (`<name>` etc. are the manifest's keys):
   * what `build --help`, the man page and the README say. test/layouts.test.ts holds each to
   * its layout's `defaultOut`.
   */
  readonly out: string;
  /** The checksum files written beside the output by default (`checksums:`), none when empty. */
  readonly checksums: readonly ('md5' | 'sha256')[];
  load(): Promise<Layout>;
}

/**
 * Every target kind dudkit builds. A layout's module is loaded only when a manifest names it, so
 * a build pays only for the media it makes. Adding a medium: one module and one line here.
 */
export const layouts: readonly LayoutEntry[] = [
  { kind: 'rhdd3', summary: 'RHEL 6–10 driver update disk (rhdd3, rpms/<arch>/, repodata), OEMDRV ISO or directory', out: 'dd-<name>-<version>-<release>.iso', checksums: ['sha256'], load: async () => (await import('./rhdd3.js')).rhdd3 },
  { kind: 'rhel5', summary: 'RHEL 4/5 driver disk (rhdd, modinfo, modules.cgz, modules.alias, pcitable), OEMDRV ISO, directory or FAT image', out: 'dd-<name>-<version>-<release>-el5.iso', checksums: ['sha256'], load: async () => (await import('./rhel5.js')).rhel5 },
  { kind: 'pxe', summary: 'initrd overlay (newc cpio.gz with dd.iso at its root) and the kernel arguments to use', out: 'dd.cpio.gz', checksums: ['sha256'], load: async () => (await import('./pxe.js')).pxe },
  { kind: 'usb', summary: 'USB stick image: MBR + FAT32 partition labelled OEMDRV with the disk tree (or the raw ISO)', out: 'dd-<name>-usb.img', checksums: ['sha256'], load: async () => (await import('./usb.js')).usb },
  { kind: 'attach', summary: 'installer ISO with the driver disk attached (dd.iso + inst.dd=hd:LABEL=… on every kernel line, boot layout kept)', out: '<installer file name without .iso>-dd.iso', checksums: ['sha256'], load: async () => (await import('./attach.js')).attach },
  { kind: 'xenserver-legacy', summary: 'XenServer 5.6–7.0 supplemental pack ISO (XS-REPOSITORY, XS-PACKAGES, install, driver RPMs) with .metadata.md5 and .iso.md5', out: '<label>.iso (label: default <name>)', checksums: ['md5'], load: async () => (await import('./xenserver-legacy.js')).xenserverLegacy },
  { kind: 'xenserver-update', summary: 'XenServer 7.1+ / Citrix Hypervisor 8 / XCP-ng signed update pack or driver disk (update.xml, Packages/, repodata, GPG signatures), ISO or directory', out: '<label>-<version>.iso (label: default <name>; version: default the manifest\'s)', checksums: [], load: async () => (await import('./xenserver-update.js')).xenserverUpdate },
  { kind: 'suse', summary: 'SUSE driver update for linuxrc/YaST and Agama (linux/suse/<arch>-<dist>/, dud.config, module.order) as cpio.gz/xz, ISO or RPM, optionally signed', out: '<name>-<version>-<release>.dud (.iso, .rpm with format: iso, rpm)', checksums: [], load: async () => (await import('./suse.js')).suse },
  { kind: 'esxi-vib', summary: 'ESXi VIB: ar of descriptor.xml, sig.pkcs7 (empty, or a CMS signature with sign:) and a tgz payload of the files: given', out: '<VIB ID>.vib (<vendor>_<type>_<vib name>_<vib version>)', checksums: [], load: async () => (await import('./esxi-vib.js')).esxiVib },
  { kind: 'esxi-bundle', summary: 'ESXi offline bundle / component zip (index.xml, vendor-index.xml, metadata.zip, vib20/<name>/<VIB ID>.vib) of the esxi-vib target', out: '<bulletin ID>-offline_bundle.zip (bulletin: default <component>_<vib version>)', checksums: [], load: async () => (await import('./esxi-bundle.js')).esxiBundle },
  { kind: 'release-zip', summary: 'XenServer release zip: pack ISO, its .iso.md5 and .metadata.md5, driver source archive (and the signing key for update packs)', out: '<name>-<version>.zip', checksums: [], load: async () => (await import('./release-zip.js')).releaseZip },
];

export async function loadLayout(kind: string): Promise<Layout | undefined> {
  return layouts.find((l) => l.kind === kind)?.load();
}
