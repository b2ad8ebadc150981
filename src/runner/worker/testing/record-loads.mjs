// Test-only: `node --import tsx --import <this file>` appends every module URL the process resolves to
// the file named by TOWER_LOAD_LOG, so a test can check what a command loads.
import { register } from 'node:module';

register(new URL('./record-loads-hooks.mjs', import.meta.url));
