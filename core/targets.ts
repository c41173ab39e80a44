// Target checks against SSRF: a subscription's targetUrl must not reach loopback, private,
// link-local, metadata and other internal or special-purpose addresses unless the operator
// allows it (ALLOW_PRIVATE_TARGETS, ALLOWED_TARGET_NETWORKS).
//
// Checked twice: when a subscription is created or updated (checkTargetUrl: the URL's host,
// or every address it resolves to), and when the worker connects (createTargetLookup: the
// address actually resolved for the socket, so a DNS answer that changes after the first check
// cannot reach an internal address). net.connect never calls `lookup` for an IP-literal host,
// so the worker checks those itself before sending (literalTargetRefusal or checkTargetUrl).
//
// The first half of this file is pure (parsing, CIDRs, classification); the I/O is at the end.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { Config } from './config.ts';

export type TargetConfig = Pick<Config, 'allowPrivateTargets' | 'allowedTargetNetworks'>;

// ───────────────────────────── pure: addresses ─────────────────────────────

export interface IpAddress {
  family: 4 | 6;
  /**
   * 16 bytes. An IPv4 address is held as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so IPv4
   * CIDRs match IPv4-mapped IPv6 addresses without special cases.
   */
  bytes: Uint8Array;
  /** Normalised text: a dotted quad, or RFC 5952 IPv6 (IPv4-mapped shown as ::ffff:a.b.c.d). */
  text: string;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function isMapped(bytes: Uint8Array): boolean {
  return MAPPED_PREFIX.every((byte, index) => bytes[index] === byte);
}

function dotted(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952: lower-case hex, no leading zeros, the longest run (2+) of zero groups as `::`. */
function formatIpv6(bytes: Uint8Array): string {
  if (isMapped(bytes)) return `::ffff:${dotted(bytes, 12)}`;
  const groups = Array.from({ length: 8 }, (_, index) => (bytes[index * 2]! << 8) | bytes[index * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function ipv4Bytes(text: string): number[] | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return null;
  const parts = match.slice(1);
  // Leading zeros are octal to some parsers (inet_aton): ambiguous, so not an address here.
  if (parts.some((part) => (part.length > 1 && part.startsWith('0')) || Number(part) > 255)) return null;
  return parts.map(Number);
}

/**
 * Parses an IP address as DNS answers and URL hosts (after `new URL()`) spell it: a dotted quad,
 * or IPv6 with optional brackets, `::`, an embedded dotted quad, and a zone (`%eth0`, dropped).
 * Anything else (host names, `127.1`, `0x7f000001`, `0177.0.0.1`) is null: `new URL()` has
 * already turned those into dotted quads, and DNS answers never use them.
 */
export function parseIp(input: string): IpAddress | null {
  let text = input.trim();
  const bracketed = text.startsWith('[') && text.endsWith(']');
  if (bracketed) text = text.slice(1, -1);
  const v4 = bracketed ? null : ipv4Bytes(text);
  if (v4) {
    const bytes = new Uint8Array(16);
    bytes.set(MAPPED_PREFIX);
    bytes.set(v4, 12);
    return { family: 4, bytes, text: v4.join('.') };
  }
  if (isIP(text) !== 6) return null;
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const groups: number[] = [];
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseHalf = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    for (const piece of half.split(':')) {
      if (piece.includes('.')) {
        const embedded = ipv4Bytes(piece);
        if (!embedded) return null;
        out.push((embedded[0]! << 8) | embedded[1]!, (embedded[2]! << 8) | embedded[3]!);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = parseHalf(halves[0]!);
  const tail = halves.length === 2 ? parseHalf(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return null;
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    if (head.length !== 8) return null;
    groups.push(...head);
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return { family: 6, bytes, text: formatIpv6(bytes) };
}

// ───────────────────────────── pure: CIDRs ─────────────────────────────

export interface Cidr {
  family: 4 | 6;
  /** The network, 16 bytes as in IpAddress, host bits cleared. */
  bytes: Uint8Array;
  /** Prefix length over the 16 bytes (an IPv4 /8 is 104 here). */
  bits: number;
  /** Normalised text, e.g. `10.0.0.0/8`, `fd00::/8`. */
  text: string;
}

/** `a.b.c.d/n` (n ≤ 32) or `ipv6/n` (n ≤ 128); host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`). */
export function parseCidr(input: string): Cidr | null {
  const [address, prefix, ...rest] = input.trim().split('/');
  if (rest.length > 0 || address === undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return null;
  const ip = parseIp(address);
  if (!ip) return null;
  const length = Number(prefix);
  if (length > (ip.family === 4 ? 32 : 128)) return null;
  const bits = ip.family === 4 ? length + 96 : length;
  const bytes = new Uint8Array(16);
  for (let index = 0; index < 16; index++) {
    const keep = Math.max(0, Math.min(8, bits - index * 8));
    bytes[index] = ip.bytes[index]! & ((0xff << (8 - keep)) & 0xff);
  }
  const network: IpAddress = { family: ip.family, bytes, text: ip.family === 4 ? dotted(bytes, 12) : formatIpv6(bytes) };
  return { family: ip.family, bytes, bits, text: `${network.text}/${length}` };
}

/**
 * Whether `address` is in `cidr`. An IPv4 CIDR also contains the IPv4-mapped IPv6 forms of its
 * addresses, and an IPv6 CIDR over ::ffff:0:0/96 contains the matching IPv4 addresses.
 */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  for (let index = 0; index < 16; index++) {
    const keep = Math.max(0, Math.min(8, cidr.bits - index * 8));
    if (keep === 0) return true;
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((address.bytes[index]! & mask) !== cidr.bytes[index]) return false;
  }
  return true;
}

// ───────────────────────────── pure: classification ─────────────────────────────

/** What kind of non-public address, as in "a loopback address". */
export type AddressCategory =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'CGNAT'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'cloud metadata';

function table(entries: [string, AddressCategory][]): [Cidr, AddressCategory][] {
  return entries.map(([text, category]) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`bad built-in CIDR ${text}`);
    return [cidr, category];
  });
}

/** IPv4 ranges (RFC 6890 and friends), most specific first: the first match names the category. */
const IPV4_RANGES = table([
  ['169.254.169.254/32', 'cloud metadata'], // AWS, GCP, Azure, OpenStack, …
  ['100.100.100.200/32', 'cloud metadata'], // Alibaba Cloud
  ['255.255.255.255/32', 'broadcast'],
  ['0.0.0.0/8', 'unspecified'], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'CGNAT'], // shared address space, RFC 6598
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'], // TEST-NET-1
  ['192.88.99.0/24', 'reserved'], // former 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'], // TEST-NET-2
  ['203.0.113.0/24', 'documentation'], // TEST-NET-3
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // class E
]);

/** IPv6 ranges, most specific first. Embedded IPv4 forms are handled before these. */
const IPV6_RANGES = table([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fd00:ec2::254/128', 'cloud metadata'], // AWS IMDS over IPv6
  ['64:ff9b:1::/48', 'private'], // local-use NAT64, RFC 8215
  ['fc00::/7', 'private'], // unique local addresses
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // deprecated site-local
  ['ff00::/8', 'multicast'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'], // RFC 9637
  ['2001:2::/48', 'benchmarking'],
  ['2001::/23', 'reserved'], // IETF protocol assignments, Teredo included
]);

const GLOBAL_UNICAST_V6 = parseCidr('2000::/3')!;
const NAT64_WELL_KNOWN = parseCidr('64:ff9b::/96')!;
const SIX_TO_FOUR = parseCidr('2002::/16')!;

function v4Category(bytes: Uint8Array): AddressCategory | null {
  const address: IpAddress = { family: 4, bytes, text: '' };
  return IPV4_RANGES.find(([cidr]) => cidrContains(cidr, address))?.[1] ?? null;
}

/** The IPv4 address an IPv6 address carries by NAT64 (64:ff9b::/96) or 6to4 (2002::/16), if any. */
function embeddedIpv4(address: IpAddress): { ip: IpAddress; via: string } | null {
  if (address.family !== 6) return null;
  let offset: number;
  let via: string;
  if (cidrContains(NAT64_WELL_KNOWN, address)) {
    offset = 12;
    via = 'NAT64 64:ff9b::/96';
  } else if (cidrContains(SIX_TO_FOUR, address)) {
    offset = 2;
    via = '6to4 2002::/16';
  } else {
    return null;
  }
  const bytes = new Uint8Array(16);
  bytes.set(MAPPED_PREFIX);
  bytes.set(address.bytes.subarray(offset, offset + 4), 12);
  return { ip: { family: 4, bytes, text: dotted(bytes, 12) }, via };
}

/**
 * Why an address is not a public one, whatever the configuration: "loopback address",
 * "IPv4-mapped private address", "loopback address 127.0.0.1 embedded in NAT64 64:ff9b::/96",
 * "reserved address", …; null for a public address.
 */
export function addressCategory(address: IpAddress): string | null {
  if (isMapped(address.bytes)) {
    const category = v4Category(address.bytes);
    if (!category) return null;
    return address.family === 4 ? `${category} address` : `IPv4-mapped ${category} address`;
  }
  const embedded = embeddedIpv4(address);
  if (embedded) {
    const category = v4Category(embedded.ip.bytes);
    return category ? `${category} address ${embedded.ip.text} embedded in ${embedded.via}` : null;
  }
  const category = IPV6_RANGES.find(([cidr]) => cidrContains(cidr, address))?.[1];
  if (category) return `${category} address`;
  // Outside 2000::/3 nothing is globally routable unicast (IPv4-compatible ::a.b.c.d, 100::/64, …).
  if (!cidrContains(GLOBAL_UNICAST_V6, address)) return 'reserved address';
  return null;
}

const parsedNetworks = new WeakMap<readonly string[], Cidr[]>();

function allowedNetworks(config: TargetConfig): Cidr[] {
  let networks = parsedNetworks.get(config.allowedTargetNetworks);
  if (!networks) {
    // core/config.ts has validated them; one that does not parse opens nothing.
    networks = config.allowedTargetNetworks.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== null);
    parsedNetworks.set(config.allowedTargetNetworks, networks);
  }
  return networks;
}

/** Whether an allowed network holds the address, or the IPv4 address it embeds. */
function isAllowed(address: IpAddress, config: TargetConfig): boolean {
  const embedded = embeddedIpv4(address)?.ip;
  return allowedNetworks(config).some((cidr) => cidrContains(cidr, address) || (embedded !== undefined && cidrContains(cidr, embedded)));
}

/**
 * Why a target may not connect to `address` under `config` ("loopback address", …), or null
 * when it may: a public address, one in ALLOWED_TARGET_NETWORKS, or any with
 * ALLOW_PRIVATE_TARGETS=true.
 */
export function addressProblem(address: string, config: TargetConfig): string | null {
  if (config.allowPrivateTargets) return null;
  const ip = parseIp(address);
  if (!ip) return 'not an IP address';
  if (isAllowed(ip, config)) return null;
  return addressCategory(ip);
}

/** The error message of a refused connection: `target address not allowed: <address> (<reason>)`. */
export function targetRefusal(address: string, reason: string): string {
  return `target address not allowed: ${parseIp(address)?.text ?? address} (${reason})`;
}

const HOW_TO_ALLOW = 'set ALLOW_PRIVATE_TARGETS=true or add its network to ALLOWED_TARGET_NETWORKS';

function withArticle(reason: string): string {
  return `${/^[aeiou]/i.test(reason) ? 'an' : 'a'} ${reason}`;
}

/** The host of a URL as net.connect gets it (IPv6 without brackets), or null for a bad URL. */
export function urlHost(url: string): string | null {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return null;
  }
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * For the worker, before sending: net.connect does not call `lookup` for an IP-literal host, so
 * createTargetLookup never sees it. Returns the same message a refused lookup gives
 * (`target address not allowed: 127.0.0.1 (loopback address)`) for a disallowed literal, and
 * null for an allowed one or for a host name (which the lookup checks when connecting).
 */
export function literalTargetRefusal(url: string, config: TargetConfig): string | null {
  if (config.allowPrivateTargets) return null;
  const host = urlHost(url);
  if (host === null || isIP(host) === 0) return null;
  const problem = addressProblem(host, config);
  return problem === null ? null : targetRefusal(host, problem);
}

// ───────────────────────────── I/O: DNS ─────────────────────────────

export interface CheckTargetOptions {
  /** Every address of a host name; dns.promises.lookup(host, { all: true }) by default. */
  resolve?: (host: string) => Promise<string[]>;
  /** How long resolving may take before the host counts as not resolving. */
  timeoutMs?: number;
}

async function resolveAll(host: string): Promise<string[]> {
  const answers = await dns.promises.lookup(host, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}

/**
 * The create/update check of a target URL: null when it is fine, else the reason for the
 * targetUrl field, e.g. "resolves to 127.0.0.1, a loopback address; set
 * ALLOW_PRIVATE_TARGETS=true or add its network to ALLOWED_TARGET_NETWORKS", or "could not
 * resolve host nowhere.invalid". A host name must resolve, and every address it resolves to
 * must be allowed. Nothing is looked up when ALLOW_PRIVATE_TARGETS=true.
 */
export async function checkTargetUrl(url: string, config: TargetConfig, options: CheckTargetOptions = {}): Promise<string | null> {
  if (config.allowPrivateTargets) return null;
  const host = urlHost(url);
  if (host === null) return 'must be an absolute http or https URL';
  if (isIP(host) !== 0) {
    const problem = addressProblem(host, config);
    return problem === null ? null : `points to ${parseIp(host)?.text ?? host}, ${withArticle(problem)}; ${HOW_TO_ALLOW}`;
  }
  const { resolve = resolveAll, timeoutMs = 5_000 } = options;
  let addresses: string[];
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Error('timed out');
  try {
    addresses = await Promise.race([
      resolve(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut), timeoutMs);
      }),
    ]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail = error === timedOut ? ' (timed out)' : code !== undefined && code !== 'ENOTFOUND' ? ` (${code})` : '';
    return `could not resolve host ${host}${detail}`;
  } finally {
    clearTimeout(timer);
  }
  if (addresses.length === 0) return `could not resolve host ${host}`;
  for (const address of addresses) {
    const problem = addressProblem(address, config);
    if (problem !== null) return `resolves to ${parseIp(address)?.text ?? address}, ${withArticle(problem)}; ${HOW_TO_ALLOW}`;
  }
  return null;
}

/** The error a refused connection fails with (through the socket, undici and the request). */
export class TargetNotAllowedError extends Error {
  readonly code = 'ERR_TARGET_NOT_ALLOWED';
  constructor(
    readonly address: string,
    readonly reason: string,
  ) {
    super(targetRefusal(address, reason));
    this.name = 'TargetNotAllowedError';
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type DnsLookup = (hostname: string, options: LookupOptions & { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A `lookup` for net.connect / tls.connect (so for undici's `connect` options): resolves as
 * dns.lookup does, with or without `{ all: true }`, and fails with TargetNotAllowedError when
 * any address it would hand over is not allowed. This checks the address the socket really
 * connects to, after any DNS change since the subscription was saved.
 */
export function createTargetLookup(config: TargetConfig, options: { lookup?: DnsLookup } = {}): LookupFunction {
  const lookup: DnsLookup = options.lookup ?? dns.lookup;
  const targetConfig: TargetConfig = { allowPrivateTargets: config.allowPrivateTargets, allowedTargetNetworks: config.allowedTargetNetworks };
  function targetLookup(hostname: string, lookupOptions: LookupOptions | number | LookupCallback, maybeCallback?: LookupCallback): void {
    const callback = (typeof lookupOptions === 'function' ? lookupOptions : maybeCallback) as LookupCallback;
    const given: LookupOptions =
      typeof lookupOptions === 'function' ? {} : typeof lookupOptions === 'number' ? { family: lookupOptions } : (lookupOptions ?? {});
    lookup(hostname, { ...given, all: true }, (error, addresses) => {
      if (error) return callback(error, given.all ? [] : '');
      if (!given.all) addresses = addresses.slice(0, 1);
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        notFound.code = 'ENOTFOUND';
        return callback(notFound, given.all ? [] : '');
      }
      for (const { address } of addresses) {
        const problem = addressProblem(address, targetConfig);
        if (problem !== null) return callback(new TargetNotAllowedError(address, problem), given.all ? [] : '');
      }
      if (given.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }
  return targetLookup as LookupFunction;
}
