#!/usr/bin/env node
// The `mail-lab` command (package bin): runs the compiled CLI.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const cli = join(__dirname, '..', 'dist', 'scripts', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write('mail-lab: not built yet; run `npm ci` (or `npm run build`) in the repository first\n');
  process.exit(2);
}
require(cli);
