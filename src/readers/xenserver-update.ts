/** XenServer 7.1+ update packs and driver disks (`verify/xenserver-update.ts`): `update.xml` at the root. */
import { isUpdatePack, updatePackText, verifyXenserverUpdate } from '../verify/xenserver-update.js';
import { diskReader } from './disk.js';

export const xenserverUpdateReader = diskReader({
  kind: 'xenserver-update',
  // above the legacy pack: an update pack that also carries legacy files is one with an error
  bid: 95,
  holds: isUpdatePack,
  check: (m, { key, kernels, signatureCheck }) => verifyXenserverUpdate(m, { ...(key !== undefined ? { key } : {}), kernels, ...(signatureCheck !== undefined ? { signatureCheck } : {}) }),
  text: updatePackText,
  inspectImage: 'account',
});
