// Every inspector, registered in the order they are tried (most specific content check first).
// Add one import and one registerInspector line per format.
import { registerInspector } from '../inspectors.js';
import { moduleInspector } from '../inputs/ko.js';

registerInspector(moduleInspector);

export { registerInspector };
