// Every inspector, registered in the order they are tried (most specific content check first).
// Add one import and one registerInspector line per format.
import { registerInspector } from '../inspectors.js';
import { moduleInspector } from '../inputs/ko.js';
import { rpmInspector } from '../formats/rpm/inspect.js';
import { dkmsInspector } from '../inputs/dkms.js';
import { legacyPackInspector } from '../verify/xenserver-legacy.js';
import { updatePackInspector } from '../verify/xenserver-update.js';
import { installerInspector } from '../formats/bootcfg/inspect.js';
import { isoInspector } from '../formats/iso9660/inspect.js';
import { repodataInspector } from '../formats/repodata/inspect.js';
import { initrdInspector } from '../inspect/initrd.js';
import { fatImageInspector } from '../inspect/usb.js';
import { diskFolderInspector } from '../inspect/disk-folder.js';

registerInspector(moduleInspector);
registerInspector(rpmInspector);
registerInspector(dkmsInspector);
registerInspector(diskFolderInspector);
registerInspector(legacyPackInspector);
registerInspector(updatePackInspector);
registerInspector(installerInspector);
registerInspector(isoInspector);
registerInspector(repodataInspector);
registerInspector(initrdInspector);
registerInspector(fatImageInspector);

export { registerInspector };
