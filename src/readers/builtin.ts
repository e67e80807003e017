/**
 * The readers dudkit ships: a plain list, passed to `inspect` and `verify` (order does not
 * matter, bids decide). A new medium or input adds its reader here.
 */
import { dkmsReader } from './dkms.js';
import { esxiBundleReader, esxiVibReader } from './esxi.js';
import { fatReader } from './fat.js';
import { initrdReader } from './initrd.js';
import { installerIsoReader } from './installer-iso.js';
import { iso9660Reader } from './iso9660.js';
import { kernelModuleReader } from './kernel-module.js';
import { optionRomReader } from './option-rom.js';
import { repositoryReader } from './repository.js';
import { rhdd3Reader } from './rhdd3.js';
import { rhel5Reader } from './rhel5.js';
import { rpmReader } from './rpm.js';
import { suseReader } from './suse.js';
import type { Registry } from './types.js';
import { xenserverLegacyReader } from './xenserver-legacy.js';
import { xenserverUpdateReader } from './xenserver-update.js';

export const builtinReaders: Registry = [
  kernelModuleReader,
  rpmReader,
  dkmsReader,
  repositoryReader,
  initrdReader,
  iso9660Reader,
  fatReader,
  installerIsoReader,
  rhdd3Reader,
  rhel5Reader,
  suseReader,
  xenserverLegacyReader,
  xenserverUpdateReader,
  optionRomReader,
  esxiVibReader,
  esxiBundleReader,
];
