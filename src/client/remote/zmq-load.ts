/**
 * zeromq is a native addon: loaded on first use only, so importing the SDK (and every CLI command that
 * uses the HTTP client) does not load it.
 */
type Zmq = typeof import('zeromq');
let loading: Promise<Zmq> | undefined;
export const loadZmq = (): Promise<Zmq> => (loading ??= import('zeromq'));
