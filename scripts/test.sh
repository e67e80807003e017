#!/usr/bin/env bash
# The whole test suite: installs the real tools the tests check against when they are missing
# (Debian 12), builds, then runs vitest. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# command → Debian package
declare -A tools=(
  [xorriso]=xorriso [isoinfo]=genisoimage [checkisomd5]=isomd5sum [implantisomd5]=isomd5sum
  [bsdtar]=libarchive-tools [7z]=p7zip-full [cpio]=cpio [rpm]=rpm [rpmbuild]=rpm [rpm2cpio]=rpm
  [createrepo_c]=createrepo-c [dnf]=dnf [gpg]=gnupg [ar]=binutils [modinfo]=kmod
  [mdir]=mtools [fsck.fat]=dosfstools [zstd]=zstd [xz]=xz-utils [bzip2]=bzip2
  [xmllint]=libxml2-utils [fdisk]=fdisk [blkid]=util-linux [unzip]=unzip [zip]=zip
  [dkms]=dkms
  [rpm2archive]=rpm2cpio [rpmkeys]=rpm
  [file]=file [uuidgen]=uuid-runtime [openssl]=openssl
  [isohybrid]=syslinux-utils [sgdisk]=gdisk [genisoimage]=genisoimage [grub-mkimage]=grub-pc-bin [mkzftree]=genisoimage
  [/usr/lib/grub/i386-pc/boot_hybrid.img]=grub-pc-bin [/usr/lib/grub/x86_64-efi/kernel.img]=grub-efi-amd64-bin [/usr/share/ovmf/OVMF.fd]=ovmf
  [/usr/lib/ISOLINUX/isolinux.bin]=isolinux [/usr/lib/syslinux/modules/bios/ldlinux.c32]=syslinux-common
  [/usr/lib/ipxe/qemu/efi-e1000.rom]=ipxe-qemu [/usr/share/seabios/vgabios-stdvga.bin]=seabios [qemu-system-x86_64]=qemu-system-x86
  [zsh]=zsh [fish]=fish [groff]=groff-base [man]=man-db
  [script]=bsdutils
  [gcc]=gcc [make]=make [objcopy]=binutils [ld]=binutils [cmp]=diffutils [timeout]=coreutils
)
missing=()
# the kABI tests build modules against Debian's real kernel headers and read their Module.symvers
compgen -G '/usr/src/linux-headers-*-amd64/Module.symvers' >/dev/null || missing+=(linux-headers-amd64)
# keys are commands, or absolute paths of files a package provides (boot loader images)
for t in "${!tools[@]}"; do command -v "$t" >/dev/null 2>&1 || [ -f "$t" ] || missing+=("${tools[$t]}"); done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "installing test tools: $pkgs" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $pkgs >/dev/null
fi

[ -d node_modules ] || npm ci
npm run build --silent
npx vitest run "$@"
