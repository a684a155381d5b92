// Entry point for running the CLI from source (tests, development): `node --import tsx src/cli/bin.ts ...`.
// Installed users run bin/steer.js, which loads the compiled dist/cli/main.js.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
