/** dudkit's own version (package.json), for the media that name their producer. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** package.json lies one folder up from src/ (tests run the sources) or two from dist/src/. */
function packageVersion(): string {
  for (const at of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(at) as { name?: string; version?: string };
      if (pkg.name === 'dudkit' && pkg.version) return pkg.version;
    } catch {
      // not there: the other layout
    }
  }
  throw new Error('dudkit: package.json not found beside the sources');
}

export const DUDKIT_VERSION: string = packageVersion();
