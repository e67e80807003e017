/**
 * What `verify` (and `inspect` of media that check themselves) finds: problems and facts with a
 * stable code, one catalogue of them, and their text rendered once from the list. Consumers
 * (scripts, the nested media of an overlay) match on `code`, never on the message.
 */

/** Every finding code, with what it means. */
export const FINDING_CODES = {
  // media of every kind
  LABEL_OEMDRV: 'the volume label is OEMDRV: the installer finds the disk by itself',
  LABEL_OTHER: 'another volume label: the installer needs inst.dd=hd:LABEL=<label>',
  FOUND_THROUGH_OUTER: 'a disk inside another medium, found through that medium (its own label does not matter)',
  MODULE_INVALID: 'a kernel module that modinfo cannot read',
  VERMAGIC_RELEASE: "a module's vermagic names another kernel release than the one it is for",
  KABI_MISSING: 'a module needs a kernel symbol the kABI reference lacks',
  KABI_CRC: "a module's symbol CRC differs from the kernel's (the load is refused)",
  KABI_NAMESPACE: 'a module uses a namespaced symbol without importing the namespace',
  RPM_UNREADABLE: 'an RPM that cannot be read',
  RPM_DIGEST: 'an RPM digest does not match (rpm -K fails)',
  RPM_DIGESTS_UNCHECKED: "an RPM's digests cannot be checked",
  RPM_SIZE_TAG: 'an RPM size tag (SIZE, PAYLOADSIZE) that does not match; rpm never checks them',
  REPODATA_PROBLEM: 'repository metadata that does not describe the files beside it',
  REPOMD_MISSING: 'repodata/ without repomd.xml',
  REPOMD_HREF: 'a repomd.xml href outside repodata/',
  REPOMD_FILE_MISSING: 'repomd.xml names a file that is missing',
  REPOMD_CHECKSUM_TYPE: 'repomd.xml uses a checksum other than sha256',
  REPOMD_CHECKSUM: 'a metadata file differs from its repomd.xml checksum',
  REPOMD_SIZE: 'a metadata file differs from its repomd.xml size',
  REPOMD_NO_PRIMARY: 'repomd.xml lists no primary metadata',
  PRIMARY_LOCATION: 'a package location that is not a bare file name',
  PRIMARY_LISTS_ABSENT: 'primary metadata lists a package that is not there',
  PRIMARY_CHECKSUM: "a package's sha256 differs from the repodata (stale repodata)",
  PRIMARY_SIZE: "a package's size differs from the repodata",
  PRIMARY_UNLISTED: 'a package the primary metadata does not list',
  NESTED_UNREADABLE: 'a disk image inside the medium that is not a driver disk',
  // what the Red Hat installer does with a disk's packages (rules/rhdd.ts)
  RHDD_NO_KERNEL_MODULES: 'a package with modules but no kernel-modules Provides: ignored',
  RHDD_UNVERSIONED_PROVIDES: 'a kernel-modules Provides without a version: ignored',
  RHDD_LEGACY_ANY: 'a kernel-modules version that matches every installer kernel (RHEL 6.0/6.1 rule)',
  RHDD_DESCRIPTION_SEPARATOR: 'a %description line "---", which corrupts dd_list output',
  RHDD_PAYLOAD_COMPRESSOR: "a payload compressor the installer's extractor cannot open",
  RHDD_COMPRESSED_MODULES: 'compressed modules, which installers before RHEL 9.6 do not load',
  RHDD_USR_LIB_MODULES: 'modules under /usr/lib/modules, never loaded by the installer',
  RHDD_SEVERAL_KERNELS: 'one package with modules for several kernels',
  RHDD_MODULE_CLASH: 'two packages match one installer kernel and carry the same module',
  RHDD_NAME_CLASH: 'two packages of one name match one installer kernel',
  RHDD_MATCHES_NONE: 'a package that matches none of the installer kernels',
  RHDD_ENHANCEMENT_DRIVER_FILES: 'an installer-enhancement package carrying modules or firmware, extracted for every installer kernel',
  // rhdd3 disks (verify/rhdd3.ts)
  RHDD3_NO_REPODATA: 'an arch folder without repodata/ (RHEL 6 rejects the disk)',
  RHDD3_MARKER_EMPTY: 'an empty rhdd3 file (RHEL 6 rejects the disk)',
  RHDD3_NOT_AT_ROOT: 'a disk not at the root of the medium (RHEL 6 looks only there)',
  RHDD3_NO_ARCH: 'rpms/ without an <arch> folder',
  RHDD3_NOARCH_FOLDER: 'an rpms/noarch folder, never read',
  RHDD3_RPM_SUBFOLDER: 'an RPM in a subfolder of rpms/<arch>/, never read',
  RHDD3_NO_RPMS: 'an arch folder without RPMs',
  RHDD3_SOURCE_RPM: 'a source RPM in an arch folder',
  RHDD3_ARCH_MISMATCH: 'an RPM of another arch than its folder',
  RHDD3_NO_MATCH: 'no package matches an installer kernel: nothing is loaded',
  RHDD3_NO_MODULE: 'packages match an installer kernel but none carries a module for it: no driver is loaded',
  RHDD3_DISK_DROPPED: "modinfo fails on an extracted module: the installer drops the disk's modules after writing dd_packages",
  KERNEL_OTHER_ARCH: 'an installer kernel of another arch than the folder',
  // RHEL 4/5 disks (verify/rhel5.ts)
  RHEL5_CGZ_NOT_GZIP: 'modules.cgz is not gzip-compressed',
  RHEL5_CGZ_ODC: 'modules.cgz is an odc cpio',
  RHEL5_CGZ_NOT_FILE: 'a modules.cgz member that is not a regular file',
  RHEL5_CGZ_MEMBER_NAME: 'a modules.cgz member not named <uname -r>/<arch>/<module>.ko',
  RHEL5_MODULE_ARCH: 'a module of another arch than its folder',
  RHEL5_CGZ_UNREADABLE: 'modules.cgz cannot be read',
  RHEL5_CGZ_EMPTY: 'modules.cgz holds no module',
  RHEL5_CGZ_NO_MEMBER: 'a module modinfo lists that modules.cgz does not hold',
  RHEL5_REPOMD_CHECKSUM_TYPE: 'rpms/ repodata with another checksum than sha1',
  RHEL5_RPM_SUBFOLDER: 'an RPM in a subfolder of rpms/',
  RHEL5_RPM_PAYLOAD: 'an RPM payload rpm 4.4 cannot read',
  RHEL5_RPM_DIGESTS: 'RPM file digests rpm 4.4 does not know',
  RHEL5_RPM_RPMLIB: 'an rpmlib() requirement rpm 4.4 cannot meet',
  RHEL5_DUD_PROVIDES: 'a dud-<module> Provides for a module modules.cgz does not hold',
  RHEL5_NO_ROCK_RIDGE: 'an ISO without Rock Ridge: the loader sees only 8.3 names',
  RHEL5_FILES_MISSING: 'files both RHEL 4 and RHEL 5 need are missing',
  RHEL5_NO_RHEL4_FILES: 'files only RHEL 4 needs are missing',
  RHEL5_NO_RHEL5_FILES: 'files RHEL 5 needs are missing',
  RHEL5_RHDD_EMPTY: 'an empty rhdd file',
  RHEL5_MODINFO: 'a modinfo line the loader skips or misreads',
  RHEL5_MODINFO_REJECTED: 'a modinfo file the loader rejects',
  RHEL5_MODINFO_CRASH: 'a modinfo file the loader crashes on',
  RHEL5_MODINFO_DESCRIPTION: 'a modinfo block without a quoted description',
  RHEL5_MODINFO_NO_BLOCK: 'a module in modules.cgz without a modinfo block',
  RHEL5_MODULES_DEP: 'a modules.dep line the loader misreads',
  RHEL5_MODULES_DEP_CRASH: 'a modules.dep the loader crashes on',
  RHEL5_DEP_OUTSIDE: 'a dependency that must come from the installer image',
  RHEL5_MODULES_ALIAS: 'a malformed modules.alias line',
  RHEL5_ALIAS_UNKNOWN: 'an alias naming a module not in modules.cgz',
  RHEL5_ALIAS_EMPTY: 'an empty modules.alias',
  RHEL5_PCITABLE_NEWLINE: 'a pcitable without a final newline',
  RHEL5_PCITABLE_LINE: 'a malformed pcitable line',
  RHEL5_NO_MODULE: 'no module for an installer kernel',
  // USB images (verify/usb.ts)
  USB_SUPERFLOPPY: 'a bare FAT file system without partition table',
  USB_PARTITION_TYPE: 'a partition type other than FAT',
  USB_PARTITION_START: 'a partition that does not start at the usual sector',
  USB_NO_LABEL: 'no volume label at all',
  USB_NO_ROOT_LABEL: 'a boot-sector label only (libblkid reports none)',
  USB_LABEL_MISMATCH: 'boot-sector and root-directory labels differ',
  USB_NOT_OEMDRV: 'a label other than OEMDRV',
  // PXE overlays (verify/pxe.ts)
  PXE_COMPRESSOR: 'an overlay compressed with something other than gzip',
  CPIO_ODC: 'an odc cpio, which the kernel rejects',
  CPIO_CRC: 'a crc cpio, which the installer kernels reject',
  CPIO_NOT_NEWC: 'no newc cpio archive',
  PXE_SEGMENT_FOLLOWS: 'a compressed segment after the archive, not checked',
  CPIO_LEADING_SLASH: 'a member name with a leading "/" or "./"',
  CPIO_NO_PARENT: 'a member whose folder has no entry before it: not unpacked',
  CPIO_OWNER: 'a member not owned by root',
  CPIO_HARD_LINK: 'members the kernel makes hard links of each other',
  CPIO_UNREADABLE: 'the archive breaks off where the kernel stops unpacking',
  CPIO_ALIGNMENT: 'an archive length that is not a multiple of 4',
  PXE_OTHER_MEMBER: 'a member the installer uses only when inst.dd= names it',
  PXE_NO_DISK: 'no driver disk at the archive root',
  PXE_RPM: 'a dd.rpm the installer installs (RHEL 7–10)',
  PXE_RPM_UNREADABLE: 'a dd.rpm the installer cannot read',
  // installer ISOs with disks attached (verify/attach.ts)
  ATTACH_NO_ARGUMENT: 'a kernel line without the driver disk argument',
  ATTACH_ARGUMENT_REPEATED: 'the driver disk argument more than once on a line',
  ATTACH_DD_PATH: 'an inst.dd= naming a path on a device, never found',
  ATTACH_KICKSTART_MISSING: 'an inst.ks= naming a file not on the medium',
  ATTACH_BOOT_IMAGE_NOT_FILE: 'an El Torito image that is not a file of the ISO',
  ATTACH_NO_BOOT: 'no El Torito boot entries',
  ATTACH_NO_EFI_GRUB: 'no grub.cfg inside the UEFI boot image',
  ATTACH_EFI_UNREADABLE: 'a UEFI boot image that is not readable as FAT',
  MEDIA_CHECK_ABSENT: 'no implanted media-check MD5',
  MEDIA_CHECK_FAIL: 'the implanted media-check MD5 does not match',
  // XenServer legacy packs (verify/xenserver-legacy.ts)
  XS_LEGACY_FORM_START: 'a metadata file that does not start with its root element',
  XS_LEGACY_FORM_LF: 'a metadata file without a final line feed',
  XS_LEGACY_FORM_CR: 'a metadata file with CR characters',
  XS_LEGACY_FORM_ATTR_ORDER: 'attributes not in ASCII order',
  XS_LEGACY_NON_ASCII: 'non-ASCII metadata text',
  XS_LEGACY_PACKAGES_MISSING: 'no XS-PACKAGES',
  XS_LEGACY_REPOSITORY_ATTR: 'a <repository> attribute missing',
  XS_LEGACY_IDENT: 'an originator or name outside [A-Za-z0-9._-]',
  XS_LEGACY_DESCRIPTION_FIRST: 'the first child of <repository> is not a non-empty <description>',
  XS_LEGACY_REQUIRES_ATTR: 'a <requires> attribute missing',
  XS_LEGACY_REQUIRES_TEST: 'a <requires> test xcp.repository does not know',
  XS_LEGACY_VERSION: 'a version the legacy installer cannot compare',
  XS_LEGACY_MAIN_ARCS: 'a base-product requirement without three arcs',
  XS_LEGACY_REQUIRES_BUILD: 'a requirement with a build part',
  XS_LEGACY_NO_DRIVER_FOR_KERNEL: 'no driver-rpm the installer loads on the given kernel',
  XS_LEGACY_VOLUME_ID: 'a volume id other than the description',
  XS_LEGACY_REPOSITORY_UNREADABLE: 'XS-REPOSITORY cannot be parsed',
  XS_LEGACY_PACKAGES_UNREADABLE: 'XS-PACKAGES cannot be parsed',
  XS_LEGACY_REPOSITORY_LIST: 'an XS-REPOSITORY-LIST on the pack',
  XS_LEGACY_INSTALL_MISSING: 'no install script',
  XS_LEGACY_INSTALL_NOT_EXECUTABLE: 'an install script that is not executable',
  XS_LEGACY_PACKAGE_ATTR: 'a <package> attribute missing',
  XS_LEGACY_PACKAGE_TYPE: 'an obsolete or unknown package type',
  XS_LEGACY_DRIVER_KERNEL: 'a driver-rpm without a kernel attribute',
  XS_LEGACY_PACKAGE_MISSING: 'a listed package that is missing',
  XS_LEGACY_PACKAGE_SIZE: 'a package whose size differs from XS-PACKAGES',
  XS_LEGACY_PACKAGE_MD5: 'a package whose MD5 differs from XS-PACKAGES',
  XS_LEGACY_CLASSIFY: 'a package the pack builders would refuse',
  XS_LEGACY_TYPE_MISMATCH: 'a package listed with another type than its NAME and GROUP give',
  XS_LEGACY_LABEL_MISMATCH: 'a package listed with another label or kernel than the builder reads',
  XS_LEGACY_ORDER: 'packages in an order whose Requires are not met',
  XS_LEGACY_UNLISTED: 'a file on the pack that XS-PACKAGES does not list',
  XS_LEGACY_METADATA_MD5: 'a <name>.metadata.md5 beside the ISO with another hash',
  XS_LEGACY_ISO_MD5: 'an <iso>.md5 beside the ISO with another hash',
  // XenServer update packs (verify/xenserver-update.ts)
  XS_UPDATE_KEY_BESIDE: 'signatures checked with the key file found beside the medium',
  XS_UPDATE_KEY_ON_MEDIUM: 'signatures checked with the key file on the medium itself',
  XS_UPDATE_KEY_NAME: 'a key file whose name is not the key update.xml names',
  XS_UPDATE_WRONG_KERNEL: 'a control package that requires another kernel',
  XS_UPDATE_NO_MODULES_FOR_KERNEL: 'no modules for the given kernel',
  XS_UPDATE_XML: 'an update.xml xapi rejects',
  XS_UPDATE_NO_KEY_ATTR: 'update.xml without a key attribute (gpgcheck=0)',
  XS_UPDATE_LEGACY_FILES: 'legacy pack files or .treeinfo on an update pack',
  XS_UPDATE_SIGNATURE_MISSING: 'a detached signature xapi requires is missing',
  XS_UPDATE_SIGNATURE_BAD: 'a detached signature that does not verify',
  XS_UPDATE_SIGNATURES_UNCHECKED: 'no public key to check signatures with',
  XS_UPDATE_REPOMD_CHECKSUM_TYPE: 'repomd.xml checksums other than sha256',
  XS_UPDATE_PRIMARY_CHECKSUM_TYPE: 'primary.xml checksums other than sha256',
  XS_UPDATE_NOT_UNDER_PACKAGES: 'an RPM not under Packages/',
  XS_UPDATE_NO_GROUP_FILE: 'no comps group file',
  XS_UPDATE_GROUP_FILE_UNREADABLE: 'a group file that cannot be parsed',
  XS_UPDATE_NO_UPDATE_GROUP: 'no group "update"',
  XS_UPDATE_GROUP_PACKAGE: 'group "update" does not name update-<label>',
  XS_UPDATE_NO_DRIVERS_GROUP: 'no "drivers" group: an update pack, not a driver disk',
  XS_UPDATE_RPM_UNSIGNED: 'an unsigned RPM',
  XS_UPDATE_RPM_SIGNATURE_BAD: 'an RPM header signature that does not verify',
  XS_UPDATE_ZSTD_PAYLOAD: 'a zstd payload the dom0 rpm cannot read',
  XS_UPDATE_NO_UPDATE_PACKAGE: 'no update-<label> package',
  XS_UPDATE_APPLIED_MARKER: 'update-<label> does not own /var/update/applied/<uuid>',
  XS_UPDATE_CONTROL_MISSING: 'the control package update.xml names is not in the pack',
  XS_UPDATE_INSTALLATION_SIZE: 'installation-size differs from the payload packages',
  // ESXi VIBs and offline bundles (verify/esxi.ts)
  ESXI_AR: 'a VIB whose ar archive esximage cannot read',
  ESXI_MEMBER_ORDER: 'ar members other than descriptor.xml, sig.pkcs7, then the payloads in descriptor order',
  ESXI_DESCRIPTOR_XML: 'a descriptor.xml that is not well-formed XML',
  ESXI_DESCRIPTOR_ORDER: "descriptor elements not in VMware's order",
  ESXI_DESCRIPTOR_VALUE: 'a descriptor element missing or with a value esximage refuses',
  ESXI_PAYLOAD_NAME: 'a payload name longer than 8 characters or outside [a-z0-9_-]',
  ESXI_PAYLOAD_MISSING: 'a payload the descriptor lists that the archive lacks',
  ESXI_PAYLOAD_SIZE: 'a payload whose size differs from the descriptor',
  ESXI_PAYLOAD_CHECKSUM: 'a payload checksum that does not match (the install fails)',
  ESXI_PAYLOAD_UNREADABLE: 'a payload that cannot be unpacked',
  ESXI_PAYLOAD_ENTRY: 'a payload entry esximage may mishandle (no folder entry, ./ names, other owners)',
  ESXI_FILE_LIST: 'a file-list that differs from the payload contents',
  ESXI_UNSIGNED_ACCEPTANCE: 'an acceptance level above community without a signature',
  ESXI_SIGNATURE_BAD: 'a sig.pkcs7 that does not verify over descriptor.xml',
  ESXI_SIGNATURE_UNTRUSTED: 'a signer that does not chain to the given certificate',
  ESXI_SIGNATURE_UNCHECKED: 'a valid signature whose trust was not checked',
  ESXI_BUNDLE_INDEX: 'an index.xml or vendor-index.xml missing or incomplete',
  ESXI_BUNDLE_METADATA: 'a metadata zip missing, unreadable or without VIB records',
  ESXI_BUNDLE_VIB_MISSING: 'a VIB record whose relative path is not in the bundle',
  ESXI_BUNDLE_VIB_CHECKSUM: "a VIB record's size or sha-256 that differs from the VIB",
  ESXI_BUNDLE_RECORD: 'a VIB record describing another VIB than the one at its path',
  ESXI_BUNDLE_BULLETIN: 'a bulletin naming a VIB the bundle does not hold',
  ESXI_BUNDLE_NO_COMPONENT: 'a bulletin without component specs (not a component on ESXi 7.0+)',
  // SUSE driver updates (verify/suse.ts)
  SUSE_DIR_NAME: 'an entry of linux/suse/ that is no <arch>-<dist> an installer takes',
  SUSE_LINK: 'a link in linux/suse/ that is absolute, leaves it or dangles',
  SUSE_NO_CONFIG: 'a directory without dud.config',
  SUSE_CONFIG_LINE: 'a dud.config line longer than linuxrc reads at once',
  SUSE_CONFIG_SYNTAX: 'a dud.config line that is not Key:<TAB>value',
  SUSE_UPDATE_ID: 'a missing, misplaced, malformed or repeated UpdateID',
  SUSE_NO_NAME: 'no UpdateName',
  SUSE_INSTALLER: 'an UpdateInstaller that does not fit the directory',
  SUSE_MODULE_FILE: 'a file in modules/ that no installer loads',
  SUSE_MODULE_DUPLICATE: 'two files in modules/ for one module name',
  SUSE_MODULE_ARCH: 'a module of another arch than its directory',
  SUSE_MODULE_ORDER: 'module.order missing, or not matching modules/ and their dependencies',
  SUSE_RPM_NAME: 'a package in install/ not named <NVRA>.rpm',
  SUSE_NO_DIR: 'no directory for an installer dist: the update is ignored there',
  SUSE_NO_MODULES: 'a directory an installer takes that holds no modules',
  SUSE_CPIO_FORMAT: 'a cpio format linuxrc does not read',
  SUSE_COMPRESSION: 'a compression linuxrc does not read',
  SUSE_XZ_CHECK: 'an xz check the kernel cannot verify when the file is appended to an initrd',
  SUSE_CPIO_NAMES: 'cpio member names that differ from mkdud\'s',
  SUSE_TAR_GNU: 'a GNU tar wrapping, which linuxrc ignores',
  SUSE_RPM_AGAMA: 'an RPM wrapping with Agama directories',
  SUSE_OWNER: 'members not owned by root',
  SUSE_SIGNATURE: 'a detached signature that is missing or does not verify',
  SUSE_INLINE_SIGNED: 'an inline-signed update with Agama directories',
} as const;

export type FindingCode = keyof typeof FINDING_CODES;

export interface Finding {
  code: FindingCode;
  severity: 'error' | 'warning' | 'info';
  /** What it is about: a file on the medium, a kernel, or '' for the medium. */
  subject: string;
  message: string;
}

export class Findings {
  readonly list: Finding[] = [];
  error(code: FindingCode, subject: string, message: string): void {
    this.list.push({ code, severity: 'error', subject, message });
  }
  warning(code: FindingCode, subject: string, message: string): void {
    this.list.push({ code, severity: 'warning', subject, message });
  }
  info(code: FindingCode, subject: string, message: string): void {
    this.list.push({ code, severity: 'info', subject, message });
  }
  /** The findings of a medium inside this one (a disk image), their subjects under its name. */
  nested(member: string, list: readonly Finding[]): void {
    for (const x of list) this.list.push({ ...x, subject: x.subject ? `${member}: ${x.subject}` : member });
  }
  get ok(): boolean {
    return !this.list.some((f) => f.severity === 'error');
  }
}

/** A nested medium's account, indented under its member's line. */
export function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
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
