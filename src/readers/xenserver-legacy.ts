/** XenServer 5.6–7.0 supplemental packs (`verify/xenserver-legacy.ts`): `XS-REPOSITORY` at the root. */
import { isLegacyPack, legacyPackText, verifyXenserverLegacy } from '../verify/xenserver-legacy.js';
import { diskReader } from './disk.js';

export const xenserverLegacyReader = diskReader({
  kind: 'xenserver-legacy',
  bid: 90,
  holds: isLegacyPack,
  check: (m, { kernels }) => verifyXenserverLegacy(m, kernels),
  text: legacyPackText,
  inspectImage: 'account',
});
