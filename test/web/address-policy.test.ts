/** Which addresses citebot may fetch from: public unicast only, and the refusal says what the address is. */
import { describe, expect, it } from 'vitest';
import { classifyAddress, ipLiteral } from '../../src/web/address-policy.js';

const why = (address: string) => {
  const verdict = classifyAddress(address);
  return verdict.public ? undefined : verdict.why;
};

describe('the public-address policy', () => {
  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8'])(
    'lets the public address %s through',
    (address) => {
      expect(classifyAddress(address)).toEqual({ public: true });
    },
  );

  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['[::1]', 'a loopback address'],
    // An IPv4-mapped IPv6 address is read as the IPv4 address inside it.
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['10.0.0.1', 'a private address'],
    ['10.255.255.255', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.254', 'a private address'],
    ['192.168.1.20', 'a private address'],
    ['::ffff:192.168.1.20', 'a private address'],
    ['fc00::1', 'a private address'],
    ['fd12:3456::1', 'a private address'],
    ['169.254.169.254', 'a link-local address'],
    ['169.254.0.1', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['224.0.0.1', 'a multicast address'],
    ['239.255.255.250', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['255.255.255.255', 'a broadcast address'],
    ['100.64.0.1', 'a carrier-grade NAT (shared) address'],
    ['100.127.255.255', 'a carrier-grade NAT (shared) address'],
    ['2002:7f00:1::1', 'an IPv6 translation address'],
    ['64:ff9b::7f00:1', 'an IPv6 translation address'],
    ['2001::1', 'an IPv6 translation address'],
    ['192.0.2.1', 'a reserved address'],
    ['240.0.0.1', 'a reserved address'],
  ])('refuses %s as %s', (address, words) => {
    expect(why(address)).toBe(words);
  });

  it('refuses what is not an IP address at all', () => {
    expect(why('example.com')).toBe('not an IP address');
    expect(why('')).toBe('not an IP address');
    expect(why('999.1.1.1')).toBe('not an IP address');
  });
});

describe('IP literals in links', () => {
  it('gives the address of a literal host, without the brackets of IPv6', () => {
    expect(ipLiteral('127.0.0.1')).toBe('127.0.0.1');
    expect(ipLiteral('93.184.216.34')).toBe('93.184.216.34');
    expect(ipLiteral('[::1]')).toBe('::1');
    expect(ipLiteral('[2606:4700::1111]')).toBe('2606:4700::1111');
    expect(ipLiteral('[::ffff:7f00:1]')).toBe('::ffff:7f00:1');
    expect(ipLiteral('::1')).toBe('::1');
  });

  it('gives nothing for a name DNS must resolve', () => {
    expect(ipLiteral('localhost')).toBeUndefined();
    expect(ipLiteral('example.com')).toBeUndefined();
    expect(ipLiteral('127.0.0.1.nip.io')).toBeUndefined();
    expect(ipLiteral('')).toBeUndefined();
  });

  it('takes the host of a parsed URL, where shorthand forms of IPv4 are already written out', () => {
    // WHATWG URLs rewrite 2130706433 and 0x7f.1 to 127.0.0.1, so the literal check sees the real address.
    expect(ipLiteral(new URL('http://2130706433/').hostname)).toBe('127.0.0.1');
    expect(ipLiteral(new URL('http://0x7f.1/').hostname)).toBe('127.0.0.1');
    expect(ipLiteral(new URL('http://[::ffff:127.0.0.1]/').hostname)).toBe('::ffff:7f00:1');
    expect(classifyAddress(ipLiteral(new URL('http://[::ffff:127.0.0.1]/').hostname) ?? '')).toEqual({
      public: false,
      why: 'a loopback address',
    });
  });
});
