const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** True for a host name or address that only this machine can reach. */
export const isLoopback = (host: string): boolean => LOOPBACK.has(host) || host.startsWith('127.');
