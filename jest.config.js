/** Three suites: `unit` (real sockets on loopback, no Docker; fast), `containers` (the real
 * compose lab; run by `npm run test:containers`) and `browser` (the web pages in Debian's
 * Chromium, driven by playwright-core, against a no-Docker lab; `npm run test:browser`). */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false, ignoreCodes: [151002] } }];
module.exports = {
  // Tests wait for real deliveries and timers; a loaded CI machine needs room. Jest reads
  // testTimeout only here, at the top (a project's own is ignored: its tests got jest's 5 s).
  // Slower files set more with jest.setTimeout (the browser suites 120 s and up).
  testTimeout: 30_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
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
      roots: ['<rootDir>/test/browser'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.tsx?$': tsJest },
    },
  ],
};
