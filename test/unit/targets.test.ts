// Target checks against SSRF: the pure parts (addresses, CIDRs, categories), and the I/O parts
// with their resolver replaced, so nothing here resolves a name or opens a socket.
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  addressCategory,
  addressProblem,
  checkTargetUrl,
  cidrContains,
  createTargetLookup,
  literalTargetRefusal,
  parseCidr,
  parseIp,
  targetRefusal,
  urlHost,
  TargetNotAllowedError,
} from '../../core/targets.ts';

const STRICT = { allowPrivateTargets: false, allowedTargetNetworks: [] as string[] };
const allowing = (...allowedTargetNetworks: string[]) => ({ allowPrivateTargets: false, allowedTargetNetworks });

describe('parseIp', () => {
  it.each([
    ['127.0.0.1', 4, '127.0.0.1'],
    ['255.255.255.255', 4, '255.255.255.255'],
    ['0.0.0.0', 4, '0.0.0.0'],
    ['::1', 6, '::1'],
    ['[::1]', 6, '::1'],
    ['::', 6, '::'],
    ['0:0:0:0:0:0:0:1', 6, '::1'],
    ['2001:DB8:0:0:0:0:0:1', 6, '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', 6, '2001:db8::ff00:42:8329'],
    ['1:2:3:4:5:6:7::', 6, '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', 6, '0:2:3:4:5:6:7:8'],
    ['fe80::1%eth0', 6, 'fe80::1'],
    ['::ffff:127.0.0.1', 6, '::ffff:127.0.0.1'],
    ['::ffff:7f00:1', 6, '::ffff:127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:1', 6, '::ffff:127.0.0.1'],
    ['64:ff9b::10.0.0.1', 6, '64:ff9b::a00:1'],
    ['::127.0.0.1', 6, '::7f00:1'],
  ])('%s is IPv%s %s', (input, family, text) => {
    expect(parseIp(input)).toMatchObject({ family, text });
  });

  it.each(['', 'localhost', 'example.com', '127.1', '0x7f000001', '2130706433', '0177.0.0.1', '127.0.0.01', '256.0.0.1', '1.2.3', '1.2.3.4.5', ':::', '1::2::3', '12345::', 'g::1', '[127.0.0.1]'])(
    '%j is not an address',
    (input) => {
      expect(parseIp(input)).toBeNull();
    },
  );

  it('holds IPv4 as its IPv4-mapped bytes, so both forms compare equal', () => {
    expect(parseIp('10.1.2.3')!.bytes).toEqual(parseIp('::ffff:10.1.2.3')!.bytes);
    expect(Array.from(parseIp('10.1.2.3')!.bytes)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 1, 2, 3]);
  });
});

describe('parseCidr and cidrContains', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['127.0.0.1/32', '127.0.0.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['fd00:1::/64', 'fd00:1::/64'],
    ['FD00:1:0:0:ffff::/64', 'fd00:1::/64'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.0/104', '::ffff:10.0.0.0/104'],
  ])('%s parses as %s', (input, text) => {
    expect(parseCidr(input)?.text).toBe(text);
  });

  it.each(['10.0.0.0', '10.0.0.0/33', '::/129', '10.0.0.0/8/8', 'localhost/8', '10.0.0.0/-1', '10.0.0.0/x', '/8'])('%j is not a CIDR', (input) => {
    expect(parseCidr(input)).toBeNull();
  });

  it.each([
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['10.0.0.0/8', '9.255.255.255', false],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['172.16.0.0/12', '172.31.255.255', true],
    ['172.16.0.0/12', '172.32.0.0', false],
    ['100.64.0.0/10', '100.127.255.255', true],
    ['100.64.0.0/10', '100.128.0.0', false],
    ['127.0.0.1/32', '127.0.0.1', true],
    ['127.0.0.1/32', '127.0.0.2', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['0.0.0.0/0', '2606:4700::1', false],
    ['::/0', '2606:4700::1', true],
    ['::/0', '8.8.8.8', true],
    ['fc00::/7', 'fdff::1', true],
    ['fc00::/7', 'fe00::1', false],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['fd00:1::/64', 'fd00:1::ffff', true],
    ['fd00:1::/64', 'fd00:1:0:1::', false],
    ['::ffff:10.0.0.0/104', '10.9.8.7', true],
  ])('%s contains %s: %s', (cidr, address, expected) => {
    expect(cidrContains(parseCidr(cidr)!, parseIp(address)!)).toBe(expected);
  });
});

describe('addressProblem', () => {
  it.each([
    // IPv4
    ['127.0.0.1', 'loopback address'],
    ['127.255.255.254', 'loopback address'],
    ['10.0.0.1', 'private address'],
    ['172.16.0.1', 'private address'],
    ['172.31.255.255', 'private address'],
    ['192.168.1.1', 'private address'],
    ['169.254.0.1', 'link-local address'],
    ['169.254.169.254', 'cloud metadata address'],
    ['100.100.100.200', 'cloud metadata address'],
    ['100.64.0.1', 'CGNAT address'],
    ['100.127.255.254', 'CGNAT address'],
    ['224.0.0.1', 'multicast address'],
    ['239.255.255.250', 'multicast address'],
    ['0.0.0.0', 'unspecified address'],
    ['0.1.2.3', 'unspecified address'],
    ['255.255.255.255', 'broadcast address'],
    ['240.0.0.1', 'reserved address'],
    ['255.255.255.254', 'reserved address'],
    ['192.0.0.8', 'reserved address'],
    ['192.88.99.1', 'reserved address'],
    ['192.0.2.1', 'documentation address'],
    ['198.51.100.7', 'documentation address'],
    ['203.0.113.200', 'documentation address'],
    ['198.18.0.1', 'benchmarking address'],
    ['198.19.255.255', 'benchmarking address'],
    // IPv6
    ['::1', 'loopback address'],
    ['::', 'unspecified address'],
    ['fc00::1', 'private address'],
    ['fd12:3456:789a::1', 'private address'],
    ['fec0::1', 'private address'],
    ['64:ff9b:1::a00:1', 'private address'],
    ['fe80::1', 'link-local address'],
    ['fe80::1%eth0', 'link-local address'],
    ['febf:ffff::1', 'link-local address'],
    ['fd00:ec2::254', 'cloud metadata address'],
    ['ff02::1', 'multicast address'],
    ['ff0e::1', 'multicast address'],
    ['2001:db8::1', 'documentation address'],
    ['3fff::1', 'documentation address'],
    ['2001:2::1', 'benchmarking address'],
    ['2001::1', 'reserved address'], // Teredo
    ['100::1', 'reserved address'], // discard-only
    ['::7f00:1', 'reserved address'], // IPv4-compatible, deprecated
    ['::ffff:0:7f00:1', 'reserved address'], // IPv4-translated
    ['5f00::1', 'reserved address'],
    // IPv4-mapped IPv6
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback address'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback address'],
    ['0:0:0:0:0:ffff:7f00:1', 'IPv4-mapped loopback address'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private address'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped cloud metadata address'],
    ['::ffff:0.0.0.0', 'IPv4-mapped unspecified address'],
    ['::ffff:224.0.0.1', 'IPv4-mapped multicast address'],
    // NAT64 and 6to4 carrying a non-public IPv4 address
    ['64:ff9b::127.0.0.1', 'loopback address 127.0.0.1 embedded in NAT64 64:ff9b::/96'],
    ['64:ff9b::7f00:1', 'loopback address 127.0.0.1 embedded in NAT64 64:ff9b::/96'],
    ['64:ff9b::a00:1', 'private address 10.0.0.1 embedded in NAT64 64:ff9b::/96'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata address 169.254.169.254 embedded in NAT64 64:ff9b::/96'],
    ['2002:7f00:1::', 'loopback address 127.0.0.1 embedded in 6to4 2002::/16'],
    ['2002:c0a8:101::1', 'private address 192.168.1.1 embedded in 6to4 2002::/16'],
  ])('refuses %s: %s', (address, problem) => {
    expect(addressProblem(address, STRICT)).toBe(problem);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '192.169.0.1',
    '223.255.255.255',
    '2606:4700::1',
    '2001:4860:4860::8888',
    '2a00:1450:4001:80b::200e',
    '::ffff:93.184.216.34',
    '64:ff9b::93.184.216.34',
    '2002:5db8:d822::1',
  ])('allows the public address %s', (address) => {
    expect(addressProblem(address, STRICT)).toBeNull();
  });

  it('says when the text is not an address', () => {
    expect(addressProblem('localhost', STRICT)).toBe('not an IP address');
  });

  it('allows everything with ALLOW_PRIVATE_TARGETS=true', () => {
    const open = { allowPrivateTargets: true, allowedTargetNetworks: [] };
    for (const address of ['127.0.0.1', '::1', '169.254.169.254', 'fd00:ec2::254', '::ffff:10.0.0.1', '0.0.0.0']) {
      expect(addressProblem(address, open)).toBeNull();
    }
  });

  it.each([
    ['127.0.0.0/8', '127.0.0.1', true],
    ['127.0.0.0/8', '127.9.9.9', true],
    ['127.0.0.0/8', '::ffff:127.0.0.1', true],
    ['127.0.0.0/8', '64:ff9b::7f00:1', true],
    ['127.0.0.0/8', '::1', false],
    ['127.0.0.0/8', '10.0.0.1', false],
    ['127.0.0.1/32', '127.0.0.2', false],
    ['10.1.0.0/16', '10.1.255.1', true],
    ['10.1.0.0/16', '10.2.0.1', false],
    ['::1/128', '::1', true],
    ['::1/128', '127.0.0.1', false],
    ['fd00:1::/64', 'fd00:1::5', true],
    ['fd00:1::/64', 'fd00:2::5', false],
    ['169.254.169.254/32', '169.254.169.254', true],
    ['169.254.169.254/32', '169.254.0.1', false],
    ['::ffff:192.168.0.0/112', '192.168.3.4', true],
    ['0.0.0.0/0', '10.0.0.1', true],
    ['0.0.0.0/0', 'fd00::1', false],
  ])('ALLOWED_TARGET_NETWORKS=%s opens %s: %s', (network, address, opened) => {
    expect(addressProblem(address, allowing(network)) === null).toBe(opened);
  });

  it('takes several allowed networks', () => {
    const config = allowing('10.0.0.0/8', 'fd00::/8');
    expect(addressProblem('10.3.2.1', config)).toBeNull();
    expect(addressProblem('fd99::1', config)).toBeNull();
    expect(addressProblem('192.168.0.1', config)).toBe('private address');
  });

  it('names no category for public addresses, whatever the configuration', () => {
    expect(addressCategory(parseIp('93.184.216.34')!)).toBeNull();
    expect(addressCategory(parseIp('127.0.0.1')!)).toBe('loopback address');
  });
});

describe('odd URL forms, as new URL() normalises them', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1', 'loopback address'],
    ['http://0x7f000001/', '127.0.0.1', 'loopback address'],
    ['http://0177.0.0.1/', '127.0.0.1', 'loopback address'],
    ['http://127.1/', '127.0.0.1', 'loopback address'],
    ['http://0x7f.1/', '127.0.0.1', 'loopback address'],
    ['http://127.0.0.1./', '127.0.0.1', 'loopback address'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1', 'loopback address'],
    ['http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/', '127.0.0.1', 'loopback address'],
    ['http://0/', '0.0.0.0', 'unspecified address'],
    ['http://0300.0250.0.1/', '192.168.0.1', 'private address'],
    ['http://3232235777/', '192.168.1.1', 'private address'],
    ['http://0xa9fea9fe/', '169.254.169.254', 'cloud metadata address'],
    ['http://169.254.169.254/latest/meta-data', '169.254.169.254', 'cloud metadata address'],
    ['http://[::1]:8080/', '::1', 'loopback address'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1', 'IPv4-mapped loopback address'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', '::ffff:7f00:1', 'IPv4-mapped loopback address'],
    ['http://[64:ff9b::127.0.0.1]/', '64:ff9b::7f00:1', 'loopback address 127.0.0.1 embedded in NAT64 64:ff9b::/96'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254', 'cloud metadata address'],
    ['https://user:pw@10.0.0.1:8443/x?y#z', '10.0.0.1', 'private address'],
  ])('%s has host %s: %s', (url, host, problem) => {
    expect(urlHost(url)).toBe(host);
    expect(addressProblem(host, STRICT)).toBe(problem);
    expect(literalTargetRefusal(url, STRICT)).toBe(`target address not allowed: ${parseIp(host)!.text} (${problem})`);
  });

  it('leaves host names to DNS', () => {
    expect(urlHost('http://LOCALHOST./x')).toBe('localhost.');
    expect(urlHost('http://127.0.0.1.nip.io/')).toBe('127.0.0.1.nip.io');
    expect(literalTargetRefusal('http://localhost/', STRICT)).toBeNull();
    expect(urlHost('not a url')).toBeNull();
  });

  it('literalTargetRefusal allows public, allowed and unchecked literals', () => {
    expect(literalTargetRefusal('http://93.184.216.34/', STRICT)).toBeNull();
    expect(literalTargetRefusal('http://[2606:4700::1]/', STRICT)).toBeNull();
    expect(literalTargetRefusal('http://127.0.0.1:9/', allowing('127.0.0.0/8'))).toBeNull();
    expect(literalTargetRefusal('http://127.0.0.1:9/', { allowPrivateTargets: true, allowedTargetNetworks: [] })).toBeNull();
  });

  it('targetRefusal spells the connect-time message', () => {
    expect(targetRefusal('::ffff:7f00:1', 'IPv4-mapped loopback address')).toBe(
      'target address not allowed: ::ffff:127.0.0.1 (IPv4-mapped loopback address)',
    );
  });
});

describe('checkTargetUrl (resolver replaced)', () => {
  const resolver = (answers: Record<string, string[]>) => async (host: string) => {
    const found = answers[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found;
  };
  const HOW = 'set ALLOW_PRIVATE_TARGETS=true or add its network to ALLOWED_TARGET_NETWORKS';

  it('refuses a literal without resolving anything', async () => {
    const resolve = async () => {
      throw new Error('must not resolve');
    };
    expect(await checkTargetUrl('http://127.0.0.1:1/x', STRICT, { resolve })).toBe(`points to 127.0.0.1, a loopback address; ${HOW}`);
    expect(await checkTargetUrl('http://[::ffff:127.0.0.1]/', STRICT, { resolve })).toBe(
      `points to ::ffff:127.0.0.1, an IPv4-mapped loopback address; ${HOW}`,
    );
    expect(await checkTargetUrl('http://93.184.216.34/', STRICT, { resolve })).toBeNull();
  });

  it('refuses a name when any address it resolves to is not allowed', async () => {
    const resolve = resolver({ internal: ['10.0.0.7'], mixed: ['93.184.216.34', 'fd00::1'], public: ['93.184.216.34', '2606:4700::1'] });
    expect(await checkTargetUrl('https://internal/hook', STRICT, { resolve })).toBe(`resolves to 10.0.0.7, a private address; ${HOW}`);
    expect(await checkTargetUrl('https://mixed/hook', STRICT, { resolve })).toBe(`resolves to fd00::1, a private address; ${HOW}`);
    expect(await checkTargetUrl('https://public/hook', STRICT, { resolve })).toBeNull();
    expect(await checkTargetUrl('https://internal/hook', allowing('10.0.0.0/24'), { resolve })).toBeNull();
  });

  it('refuses a name that does not resolve, or resolves too slowly', async () => {
    expect(await checkTargetUrl('https://nowhere/hook', STRICT, { resolve: resolver({}) })).toBe('could not resolve host nowhere');
    expect(await checkTargetUrl('https://empty/hook', STRICT, { resolve: resolver({ empty: [] }) })).toBe('could not resolve host empty');
    const again = async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN slow'), { code: 'EAI_AGAIN' });
    };
    expect(await checkTargetUrl('https://slow/hook', STRICT, { resolve: again })).toBe('could not resolve host slow (EAI_AGAIN)');
    const never = () => new Promise<string[]>(() => {});
    expect(await checkTargetUrl('https://slow/hook', STRICT, { resolve: never, timeoutMs: 20 })).toBe('could not resolve host slow (timed out)');
  });

  it('checks nothing with ALLOW_PRIVATE_TARGETS=true', async () => {
    const resolve = async () => {
      throw new Error('must not resolve');
    };
    expect(await checkTargetUrl('http://nowhere/', { allowPrivateTargets: true, allowedTargetNetworks: [] }, { resolve })).toBeNull();
  });
});

describe('createTargetLookup (dns.lookup replaced)', () => {
  type Answer = { error?: NodeJS.ErrnoException; addresses?: LookupAddress[] };
  const fakeLookup = (answer: Answer, seen: unknown[] = []) =>
    ((hostname: string, options: object, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => {
      seen.push({ hostname, options });
      queueMicrotask(() => callback(answer.error ?? null, answer.addresses ?? []));
    }) as never;
  const call = (lookup: ReturnType<typeof createTargetLookup>, options: object) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family: unknown }>((resolve) =>
      lookup('target.test', options as never, (error, address, family) => resolve({ error, address, family })),
    );
  const loopback: LookupAddress[] = [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ];
  const publicAddresses: LookupAddress[] = [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:4700::1', family: 6 },
  ];

  it('refuses a disallowed address with TargetNotAllowedError, with and without { all }', async () => {
    for (const all of [true, false]) {
      const { error } = await call(createTargetLookup(STRICT, { lookup: fakeLookup({ addresses: loopback }) }), { all });
      expect(error).toBeInstanceOf(TargetNotAllowedError);
      expect(error!.message).toBe('target address not allowed: 127.0.0.1 (loopback address)');
    }
  });

  it('refuses when any of all the addresses is disallowed', async () => {
    const lookup = createTargetLookup(STRICT, { lookup: fakeLookup({ addresses: [publicAddresses[0]!, { address: 'fd00:ec2::254', family: 6 }] }) });
    const { error } = await call(lookup, { all: true });
    expect(error!.message).toBe('target address not allowed: fd00:ec2::254 (cloud metadata address)');
  });

  it('passes allowed addresses on in the shape asked for', async () => {
    const seen: unknown[] = [];
    const lookup = createTargetLookup(STRICT, { lookup: fakeLookup({ addresses: publicAddresses }, seen) });
    expect(await call(lookup, { all: true, family: 0, hints: 32 })).toEqual({ error: null, address: publicAddresses, family: undefined });
    expect(await call(lookup, { family: 4 })).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    expect(seen).toEqual([
      { hostname: 'target.test', options: { all: true, family: 0, hints: 32 } },
      { hostname: 'target.test', options: { all: true, family: 4 } },
    ]);
  });

  it('accepts the other dns.lookup call shapes', async () => {
    const lookup = createTargetLookup(STRICT, { lookup: fakeLookup({ addresses: publicAddresses }) }) as unknown as (...args: unknown[]) => void;
    const viaCallback = await new Promise((resolve) => lookup('target.test', (error: unknown, address: unknown) => resolve([error, address])));
    expect(viaCallback).toEqual([null, '93.184.216.34']);
    const viaFamily = await new Promise((resolve) => lookup('target.test', 6, (error: unknown, address: unknown) => resolve([error, address])));
    expect(viaFamily).toEqual([null, '93.184.216.34']);
  });

  it('opens allowed networks, and everything with ALLOW_PRIVATE_TARGETS=true', async () => {
    const allowed = createTargetLookup(allowing('127.0.0.0/8', '::1/128'), { lookup: fakeLookup({ addresses: loopback }) });
    expect((await call(allowed, { all: true })).address).toEqual(loopback);
    const open = createTargetLookup({ allowPrivateTargets: true, allowedTargetNetworks: [] }, { lookup: fakeLookup({ addresses: loopback }) });
    expect((await call(open, {})).address).toBe('127.0.0.1');
  });

  it('passes resolver errors through, and fails an empty answer as not found', async () => {
    const failure = Object.assign(new Error('getaddrinfo ENOTFOUND target.test'), { code: 'ENOTFOUND' });
    expect((await call(createTargetLookup(STRICT, { lookup: fakeLookup({ error: failure }) }), { all: true })).error).toBe(failure);
    expect((await call(createTargetLookup(STRICT, { lookup: fakeLookup({ addresses: [] }) }), {})).error?.code).toBe('ENOTFOUND');
  });
});
