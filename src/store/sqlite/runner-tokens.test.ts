import { describeRunnerTokenConformance } from '../testing/runner-tokens-conformance.js';
import { openSqliteStore } from './store.js';

describeRunnerTokenConformance('sqlite (memory)', async () => {
  const store = openSqliteStore(':memory:');
  return { tokens: store.runnerTokens(), close: () => store.close() };
});
