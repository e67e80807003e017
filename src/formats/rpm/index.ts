// RPM v4 packages (rpm.md): header codec, tags, reader.
export * from './tags.js';
export * from './header.js';
