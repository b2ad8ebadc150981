import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

interface Router {
  routes: Map<string, UpgradeHandler>;
  listener: UpgradeHandler;
}

const routers = new WeakMap<Server, Router>();

/**
 * WebSocket endpoints sharing one HTTP server (`/hub/ws`, `/runners/ws`): a single `upgrade` listener
 * per server hands each request to the handler of its path and answers 404 for any other path, so no
 * endpoint refuses another's upgrades. Returns the removal; the listener goes with the last route.
 */
export function routeUpgrade(server: Server, path: string, handler: UpgradeHandler): () => void {
  let router = routers.get(server);
  if (!router) {
    const routes = new Map<string, UpgradeHandler>();
    const listener: UpgradeHandler = (req, socket, head) => {
      const pathname = new URL(req.url ?? '/', 'http://tower.invalid').pathname;
      const route = routes.get(pathname);
      if (route) route(req, socket, head);
      else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    router = { routes, listener };
    routers.set(server, router);
    server.on('upgrade', listener);
  }
  if (router.routes.has(path)) throw new Error(`an upgrade handler for ${path} is already installed`);
  router.routes.set(path, handler);
  const current = router;
  return () => {
    if (current.routes.get(path) !== handler) return;
    current.routes.delete(path);
    if (current.routes.size === 0) {
      server.off('upgrade', current.listener);
      routers.delete(server);
    }
  };
}
