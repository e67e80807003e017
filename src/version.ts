/** dudkit's own version (package.json), for the media that name their producer. */
import { createRequire } from 'node:module';

export const DUDKIT_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
