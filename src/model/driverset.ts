import type { Compression } from '../formats/compress/magic.js';
import type { ModuleInfo } from '../formats/elf/index.js';
import type { RpmPackage } from '../formats/rpm/read.js';
import type { Source } from '../tree/source.js';

/** Package-level facts from the manifest, shared by every medium. */
export interface DriverMeta {
  name: string;
  version: string;
  release: string;
  vendor: string;
  vendorName?: string;
  summary: string;
  description: string;
  license: string;
  url?: string;
}

export interface KernelModule {
  /** Everything `.modinfo` and the ELF header say. */
  facts: ModuleInfo;
  /** Where it came from, for messages. */
  origin: string;
  /** The module as given (possibly compressed) and its compression. */
  original: Source;
  compression: Compression;
  /** The uncompressed ELF module (`<name>.ko`); installers before RHEL 9.6 need it. */
  plain: Source;
  /** The release name (`rhel-9.4`) a source's `kernel:` gave, standing for its kernel release. */
  kernelFromRelease?: string;
}

/** The modules built for one kernel release and architecture. */
export interface KernelBuild {
  kernelRelease: string;
  arch: string;
  modules: KernelModule[];
}

/** A kmod, firmware or source RPM handed to dudkit: used as it is. */
export interface GivenRpm {
  origin: string;
  fileName: string;
  source: Source;
  /** Its lead and headers (the payload stays on disk). */
  pkg: RpmPackage;
}

export interface FirmwareFile {
  /** Path under lib/firmware/. */
  dest: string;
  source: Source;
  origin: string;
}

/** Everything a layout needs: modules grouped by kernel release and arch, given RPMs, firmware. */
export interface DriverSet {
  meta: DriverMeta;
  kernels: KernelBuild[];
  rpms: GivenRpm[];
  firmware: FirmwareFile[];
  /** The certificate (DER) the modules are signed with, when the manifest signs them. */
  signingCertificate?: Uint8Array;
  /** The `kabi:` files every module's symbols were checked against (and passed). */
  kabiChecked?: string[];
}

/** All architectures the set has modules or binary RPMs for (noarch excluded), sorted. */
export function architectures(set: DriverSet): string[] {
  const archs = new Set<string>(set.kernels.map((k) => k.arch));
  for (const r of set.rpms) if (!r.pkg.isSource && r.pkg.arch !== 'noarch') archs.add(r.pkg.arch);
  return [...archs].sort();
}
