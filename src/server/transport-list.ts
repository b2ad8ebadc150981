import { hubTransport } from '../transports/hub/index.js';
import { busTransport } from '../transports/ipc/index.js';
import { runnersTransport } from '../transports/runners/index.js';
import { namedStarter, type TransportStarter } from './transports.js';

/**
 * The transports `tower serve` runs beside HTTP, in start order. Each entry lives in its own folder under
 * src/transports/ and is added here with one line.
 */
export const TRANSPORTS: readonly TransportStarter[] = [
  namedStarter('hub', hubTransport()),
  namedStarter('bus', busTransport()),
  namedStarter('runners', runnersTransport()),
];
