/**
 * Which firmware a medium ships, as the kernel's firmware loader finds it
 * (drivers/base/firmware_loader/main.c): `request_firmware(NAME)` tries `fw_path[]` in turn,
 * `/lib/firmware/updates/<K>`, `/lib/firmware/updates`, `/lib/firmware/<K>`, `/lib/firmware`,
 * each with NAME as it is, then NAME.zst and NAME.xz (CONFIG_FW_LOADER_COMPRESS). `/usr/lib/firmware`
 * is `/lib/firmware` on a merged-/usr system (Fedora's and newer RHEL's linux-firmware install there).
 */

const ROOTS = ['/lib/firmware/', '/usr/lib/firmware/'];
const COMPRESSED = /\.(zst|xz)$/;

/** The names `request_firmware` resolves to the file at `path` (a payload path), for kernels `kernels`; none outside the firmware folders. */
export function firmwareNames(path: string, kernels: readonly string[]): string[] {
  const abs = `/${path.replace(/^\.?\/+/, '')}`;
  const root = ROOTS.find((r) => abs.startsWith(r));
  if (!root) return [];
  const rel = abs.slice(root.length);
  const names: string[] = [];
  // the loader's own subfolders: updates/, <K>/ and updates/<K>/ for a kernel of the medium
  for (const prefix of ['', 'updates/', ...kernels.flatMap((k) => [`${k}/`, `updates/${k}/`])]) {
    if (!rel.startsWith(prefix)) continue;
    const name = rel.slice(prefix.length);
    names.push(name);
    if (COMPRESSED.test(name)) names.push(name.replace(COMPRESSED, ''));
  }
  return names;
}

/** A module that names firmware (modinfo `firmware=`), and where it came from (for the message). */
export interface FirmwareUser {
  module: string;
  /** `sources[0].ko: /path/acmenet.ko`. */
  origin: string;
  firmware: readonly string[];
}

/** Each firmware file some module names that `shipped` (names from `firmwareNames`) lacks, with the modules naming it, in order. */
export function missingFirmware(users: readonly FirmwareUser[], shipped: ReadonlySet<string>): { file: string; users: FirmwareUser[] }[] {
  const missing = new Map<string, FirmwareUser[]>();
  for (const u of users) {
    for (const file of u.firmware) {
      if (shipped.has(file)) continue;
      missing.set(file, [...(missing.get(file) ?? []), u]);
    }
  }
  return [...missing].map(([file, list]) => ({ file, users: list }));
}
