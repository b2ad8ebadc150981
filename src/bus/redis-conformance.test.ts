import { describeBusConformance } from './conformance.js';
import { RedisBus } from './redis.js';
import { TEST_REDIS_URL, uniquePrefix } from './test-redis.js';

// One channel prefix per test (shared by the buses that test opens), unique to this run.
const base = uniquePrefix('conf');
describeBusConformance('redis', (test) => RedisBus.open(TEST_REDIS_URL, { prefix: `${base}-${test}` }), { shared: true });
