import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // real-tool tests spawn processes; two cores in CI
    pool: 'forks',
    // no developer's ~/.config/dudkit/defaults.yaml (or DUDKIT_DEFAULTS) leaks into a build under test
    env: { DUDKIT_DEFAULTS: '' },
  },
});
