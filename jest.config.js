/** Three suites: `unit` (real sockets on loopback, no Docker; fast), `containers` (the real
 * compose lab; run by `npm run test:containers`) and `browser` (the web pages in Debian's
 * Chromium, driven by playwright-core, against a no-Docker lab; `npm run test:browser`). */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false, ignoreCodes: [151002] } }];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      // Tests wait for real deliveries and timers; a loaded CI machine needs room.
      testTimeout: 30_000,
      roots: ['<rootDir>/test/unit'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.tsx?$': tsJest },
    },
    {
      displayName: 'containers',
      testEnvironment: 'node',
      // Starts from a known state: takes down (and says so) a lab this machine was running.
      globalSetup: '<rootDir>/test/containers/global-setup.ts',
      roots: ['<rootDir>/test/containers'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.tsx?$': tsJest },
    },
    {
      displayName: 'browser',
      testEnvironment: 'node',
      // Starts a no-Docker lab and `mail-lab web`, then a real browser: give it room.
      testTimeout: 120_000,
      roots: ['<rootDir>/test/browser'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.tsx?$': tsJest },
    },
  ],
};
