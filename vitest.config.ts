import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests import src/**.js; they run the compiled build in dist/ (see test/global-setup.ts).
    alias: [{ find: /^(.*)\/src\/(.+)\.js$/, replacement: '$1/dist/src/$2.js' }],
    globalSetup: ['test/global-setup.ts'],
    // Oracle suites spawn GNU as / QEMU; give them room on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
