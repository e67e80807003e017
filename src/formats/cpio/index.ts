export { MAX_MEMBER_SIZE, type CpioFormat, type CpioFields } from './header.js';
export { writeCpio, byteSum, type CpioMember, type WriteCpioOptions } from './write.js';
export { readCpio, type CpioEntry, type CpioMemberRead, type CpioEnd } from './read.js';
export { readInitrd, type InitrdCompression, type InitrdMemberRead, type InitrdEnd } from './initrd.js';
export { displayName, safeMemberPath } from './names.js';
