/**
 * The dom0 kernel (`uname -r`, the installer's LINUX_KABI_VERSION) of the XenServer releases whose
 * kernel dudkit knows from the released product: a driver pack for that release loads only
 * modules built for it. Releases missing here are simply not checked.
 */
const DOM0_KERNELS: Readonly<Record<string, string>> = {
  '6.0.0': '2.6.32.12-0.7.1.xs6.0.0.529.170661xen',
  '6.1.0': '2.6.32.43-0.4.1.xs1.6.10.734.170748xen',
  '6.2.0': '2.6.32.43-0.4.1.xs1.8.0.835.170778xen',
  '6.5.0': '3.10.0+2',
  '7.0.0': '3.10.0+10',
};

/** The dom0 kernel of a release given with three arcs (`7.0.0`), when dudkit knows it. */
export function dom0Kernel(release: string): string | undefined {
  return DOM0_KERNELS[release];
}
