import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { TowerError } from '../../protocol/errors.js';

/**
 * The SSRF guard of webfetch: which addresses a fetch may connect to. The caller resolves the host once,
 * checks every address here, then connects to the checked address itself (and checks the socket's remote
 * address again), so a name that resolves differently on a second lookup (DNS rebinding) cannot slip by.
 */

const blocked = new BlockList();
// IPv4: "this network", private, CGNAT, loopback, link-local, IETF protocol assignments, benchmarking,
// multicast, reserved and broadcast.
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
// IPv6: unspecified, loopback, unique-local, link-local, site-local (deprecated), multicast.
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8]] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** An IPv4 address embedded in an IPv6 one that routes to it: IPv4-mapped, IPv4-compatible, NAT64, 6to4. */
function embeddedIPv4(address: string): string | null {
  const bytes = ipv6Bytes(address);
  if (bytes === null) return null;
  const v4 = (offset: number): string => [...bytes.subarray(offset, offset + 4)].join('.');
  const zero = (from: number, to: number): boolean => bytes.subarray(from, to).every((b) => b === 0);
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12); // ::ffff:a.b.c.d
  if (zero(0, 12) && !zero(12, 16)) return v4(12); // ::a.b.c.d (deprecated IPv4-compatible)
  const nat64 = [0x00, 0x64, 0xff, 0x9b];
  if (nat64.every((b, i) => bytes[i] === b) && zero(4, 12)) return v4(12); // 64:ff9b::/96
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2); // 2002::/16
  return null;
}

/** 16 bytes of an IPv6 address (with `::` and a dotted IPv4 tail), or null when it is not one. */
export function ipv6Bytes(address: string): Uint8Array | null {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIP(text) !== 6) return null;
  let head = text;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    tail.push(...dotted[1].split('.').map(Number));
    head = text.slice(0, -dotted[1].length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left = '', right] = head.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const missing = 8 - tail.length / 2 - l.length - r.length;
  const all = [...l, ...Array<number>(right === undefined ? 0 : missing).fill(0), ...r];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  tail.forEach((b, i) => (out[12 + i] = b));
  return out;
}

/** True for an address webfetch may not reach without `allowPrivateNet`. */
export function isPrivateAddress(address: string): boolean {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(text);
  if (family === 4) return blocked.check(text, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse rather than guess
  const v4 = embeddedIPv4(text);
  if (v4 !== null) return blocked.check(v4, 'ipv4');
  return blocked.check(text, 'ipv6');
}

export interface ResolvedTarget {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves `hostname` and returns the address to connect to. Every address the name resolves to must pass:
 * a name with one public and one private address is refused, whichever a later lookup would pick.
 */
export async function resolveSafe(
  hostname: string,
  allowPrivateNet: boolean,
  isBlocked: (address: string) => boolean = isPrivateAddress,
): Promise<ResolvedTarget> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(bare);
  let addresses: { address: string; family: number }[];
  if (literal !== 0) addresses = [{ address: bare, family: literal }];
  else {
    try {
      addresses = await lookup(bare, { all: true, verbatim: true });
    } catch (err) {
      throw new TowerError('network_error', `cannot resolve ${bare}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const first = addresses[0];
  if (first === undefined) throw new TowerError('network_error', `${bare} resolves to no address`);
  if (!allowPrivateNet) {
    const bad = addresses.find((a) => isBlocked(a.address));
    if (bad) throw refusal(bare, bad.address);
  }
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

export function refusal(host: string, address: string): TowerError {
  return new TowerError(
    'invalid_request',
    `refusing to fetch ${host}: it resolves to ${address}, a loopback, private, link-local or otherwise internal address ` +
      '(whoever runs the tools can allow these: --allow-private-net on a runner, allow_private_net in Tower\'s config)',
  );
}
