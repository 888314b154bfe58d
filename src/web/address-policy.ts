/**
 * Which network addresses citebot may fetch pages from. Only public unicast addresses: a link pasted in
 * Discord must not make the bot read the machine it runs on (loopback), the network it sits in (private,
 * link-local, the cloud metadata address 169.254.169.254) or anything else that is not the public internet.
 */
import ipaddr from 'ipaddr.js';

/** Why an address is not public, as the refusal says it ("resolves to a private address"). */
const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  uniqueLocal: 'a private address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT (shared) address',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved address',
  benchmarking: 'a reserved (benchmarking) address',
  amt: 'a reserved address',
  as112: 'a reserved address',
  deprecated: 'a reserved address',
  orchid2: 'a reserved address',
  // Translation prefixes carry an IPv4 address inside; which one is not looked into, so none is trusted.
  '6to4': 'an IPv6 translation address',
  teredo: 'an IPv6 translation address',
  rfc6052: 'an IPv6 translation address',
  rfc6145: 'an IPv6 translation address',
  ipv4Mapped: 'an IPv4-mapped address',
};

export type AddressVerdict = { public: true } | { public: false; why: string };

/** Whether `address` (an IPv4 or IPv6 literal) is a public unicast address; when not, what it is. */
export function classifyAddress(address: string): AddressVerdict {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() reads an IPv4-mapped IPv6 address (::ffff:127.0.0.1) as the IPv4 address it is.
    parsed = ipaddr.process(address.replace(/^\[|\]$/g, ''));
  } catch {
    return { public: false, why: 'not an IP address' };
  }
  const range = parsed.range();
  if (range === 'unicast') return { public: true };
  return { public: false, why: RANGE_WORDS[range] ?? `a ${range} address` };
}

/** The host of a URL as an IP literal, or undefined when it is a name that DNS must resolve. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(bare) && (ipaddr.IPv6.isValid(bare) || ipaddr.IPv4.isValidFourPartDecimal(bare)) ? bare : undefined;
}
