import { describe, expect, it } from 'vitest';
import { ipv6Bytes, isPrivateAddress, resolveSafe } from './ssrf.js';

describe('isPrivateAddress', () => {
  it('refuses internal IPv4 ranges and allows public ones', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.255', '0.0.0.0', '224.0.0.1', '255.255.255.255']) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '93.184.216.34']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('refuses internal IPv6 ranges, IPv4-mapped and NAT64 forms of internal IPv4', () => {
    for (const a of ['::1', '::', 'fe80::1', 'fd00::1', 'fc00::2', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '[::ffff:127.0.0.1]', '::ffff:10.0.0.1', '64:ff9b::127.0.0.1', '2002:7f00:1::', '::127.0.0.1', 'fe80::1%eth0']) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['2001:4860:4860::8888', '::ffff:8.8.8.8', '2606:4700::1111']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('treats anything that is not an address as refused', () => {
    expect(isPrivateAddress('localhost')).toBe(true);
    expect(isPrivateAddress('')).toBe(true);
  });

  it('parses IPv6 with compressed zeros and dotted tails', () => {
    expect([...(ipv6Bytes('::ffff:1.2.3.4') ?? [])].slice(10)).toEqual([0xff, 0xff, 1, 2, 3, 4]);
    expect([...(ipv6Bytes('1::2') ?? [])]).toEqual([0, 1, ...Array(12).fill(0), 0, 2]);
    expect(ipv6Bytes('1.2.3.4')).toBeNull();
  });
});

describe('resolveSafe', () => {
  it('refuses a hostname that resolves to loopback, unless private networks are allowed', async () => {
    await expect(resolveSafe('localhost', false)).rejects.toMatchObject({ message: expect.stringMatching(/refusing to fetch localhost/) });
    await expect(resolveSafe('localhost', true)).resolves.toMatchObject({ address: expect.any(String) });
    await expect(resolveSafe('[::ffff:127.0.0.1]', false)).rejects.toThrow(/refusing/);
    await expect(resolveSafe('127.0.0.1', true)).resolves.toEqual({ address: '127.0.0.1', family: 4 });
  });
});
