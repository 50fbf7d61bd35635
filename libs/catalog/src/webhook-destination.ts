import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where Tally may send a webhook (docs/security.md#webhooks). A webhook URL is chosen by a tenant, so
 * without a check any tenant could make Tally's servers send requests into the operator's network
 * (SSRF): the cloud metadata service, ClickHouse, NATS's monitoring port, a private admin panel.
 * Destinations whose name resolves to a loopback, private, link-local, shared, multicast, reserved or
 * unspecified address are refused, unless the operator's allow-list names the address's range.
 * Checked when a rule is saved (a clear 422) and again at every delivery, on the addresses the
 * connection then actually uses (a name may resolve elsewhere by then: DNS rebinding).
 */
const REFUSED_V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const REFUSED_V6: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'private (unique local)'],
  ['fe80::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'reserved'],
  ['64:ff9b::', 96, 'reserved (NAT64)'],
];

export class WebhookDestinationError extends Error {
  readonly code = 'WEBHOOK_DESTINATION_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'WebhookDestinationError';
  }
}

/** The operator's exceptions: CIDR ranges (`10.1.2.0/24`, `fd00::/8`) or single addresses. */
export class WebhookDestinationPolicy {
  private readonly allowed = new BlockList();

  constructor(readonly allow: readonly string[] = []) {
    for (const entry of allow) {
      const [address, bits] = entry.split('/');
      const family = isIP(address);
      if (!family) throw new Error(`webhook allow-list: '${entry}' is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`webhook allow-list: '${entry}' has a bad prefix length`);
      }
      this.allowed.addSubnet(address, prefix, type);
    }
  }

  /** Parses `TALLY_WEBHOOK_ALLOW` (comma- or space-separated). */
  static parse(text: string): WebhookDestinationPolicy {
    return new WebhookDestinationPolicy(text.split(/[\s,]+/).filter(Boolean));
  }

  /** Why `address` is refused, or undefined when Tally may connect to it. */
  refusal(address: string): string | undefined {
    const family = isIP(address);
    if (!family) return 'not an IP address';
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(address, type)) return undefined;
    // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
    const mapped = family === 6 ? mappedIpv4(address) : undefined;
    if (mapped) return this.refusal(mapped);
    for (const [net, bits, why] of family === 4 ? REFUSED_V4 : REFUSED_V6) {
      const one = new BlockList();
      one.addSubnet(net, bits, type);
      if (one.check(address, type)) return why;
    }
    if (address === '255.255.255.255') return 'broadcast';
    return undefined;
  }

  /** Throws a WebhookDestinationError naming the first refused address. */
  assertAllowed(host: string, addresses: readonly string[]): void {
    if (addresses.length === 0) throw new WebhookDestinationError(`${host} does not resolve to any address`);
    for (const a of addresses) {
      const why = this.refusal(a);
      if (why) {
        throw new WebhookDestinationError(
          `webhook destination ${host}${a === host ? '' : ` (${a})`} is a ${why} address; only public addresses are allowed`,
        );
      }
    }
  }
}

/** `::ffff:1.2.3.4` or `::ffff:102:304` → `1.2.3.4`; undefined for any other address. */
function mappedIpv4(address: string): string | undefined {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (dotted) return dotted;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

export type AddressLookup = (host: string) => Promise<string[]>;

export const systemLookup: AddressLookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Resolves the URL's host and checks every address it resolves to (all of them: the client may use
 * any). Throws WebhookDestinationError; a name that does not resolve is refused too.
 */
export async function checkWebhookDestination(
  url: string,
  policy: WebhookDestinationPolicy,
  lookup: AddressLookup = systemLookup,
): Promise<string[]> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookDestinationError('webhook URL is not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new WebhookDestinationError('webhook URL must be http(s)');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await lookup(host);
    } catch (error) {
      throw new WebhookDestinationError(`webhook destination ${host} does not resolve (${(error as Error).message})`);
    }
  }
  policy.assertAllowed(host, addresses);
  return addresses;
}
