/**
 * The architecture a kernel release names, where it names one: Red Hat and Fedora end `uname -r`
 * with the RPM arch (`5.14.0-362.8.1.el9_3.x86_64`, `…aarch64+64k`), Debian with its port's
 * flavour (`6.1.0-56-amd64`, `-cloud-arm64`). SUSE (`-default`) and Ubuntu (`-generic`) name none.
 * Arches are RPM arches, as the ELF reader reports modules' machines.
 */
const RPM_SUFFIX = /\.(x86_64|aarch64|ppc64le|ppc64|s390x|i[3-6]86|armv7hl|riscv64|loongarch64)(\+[A-Za-z0-9_]+)?$/;
const DEBIAN_SUFFIX = /-(amd64|arm64|686|686-pae|armmp|armmp-lpae|s390x|powerpc64le|ppc64el|riscv64|loong64)$/;
const DEBIAN_ARCH: Readonly<Record<string, string>> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  '686': 'i686',
  '686-pae': 'i686',
  armmp: 'armv7hl',
  'armmp-lpae': 'armv7hl',
  s390x: 's390x',
  powerpc64le: 'ppc64le',
  ppc64el: 'ppc64le',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
};

export function kernelArch(release: string): string | undefined {
  const rpm = RPM_SUFFIX.exec(release)?.[1];
  if (rpm) return /^i[3-6]86$/.test(rpm) ? 'i686' : rpm;
  const debian = DEBIAN_SUFFIX.exec(release)?.[1];
  return debian ? DEBIAN_ARCH[debian] : undefined;
}
