// RPM v4 packages (rpm.md): header codec, tags, reader.
export * from './tags.js';
export * from './header.js';
export * from './read-meta.js';
export * from './read.js';
export * from './read-verify.js';
export * from './read-signature.js';
