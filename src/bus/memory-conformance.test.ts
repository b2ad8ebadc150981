import { describeBusConformance } from './conformance.js';
import { MemoryBus } from './memory.js';

describeBusConformance('memory', async () => new MemoryBus());
