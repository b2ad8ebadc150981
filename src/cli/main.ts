#!/usr/bin/env node
import { nodeIo } from './io.js';
import { run } from './program.js';

// `tower send … | head`: once the reader is gone there is nobody left to write for.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// Set the exit code rather than exiting: `tower serve` must keep running after its command returns.
process.exitCode = await run(process.argv.slice(2), nodeIo());
