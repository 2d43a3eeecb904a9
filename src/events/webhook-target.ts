/**
 * Where a webhook may be sent: `http(s)` URLs of public addresses only (unless private ones are allowed, for tests and
 * private networks). Checked when an endpoint is saved and again at each delivery, on the addresses the connection
 * really uses (a name that resolves elsewhere later is caught there).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { promises as dns } from 'node:dns';
import { isNonPublicAddress } from '../domain/network-address.js';

export type TargetProblem = { reason: 'invalid_url' | 'unsupported_scheme' | 'private_address' | 'unresolvable'; message: string };

/** The URL parsed, or why it cannot be a webhook target (without resolving it). */
export function parseWebhookUrl(url: string): URL | TargetProblem {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { reason: 'invalid_url', message: 'must be an absolute URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return { reason: 'unsupported_scheme', message: 'must be an https:// or http:// URL' };
  if (parsed.username || parsed.password) return { reason: 'invalid_url', message: 'must not carry credentials' };
  return parsed;
}

/** Resolves the URL's host and refuses it when any of its addresses is not public (unless `allowPrivate`). */
export async function checkWebhookTarget(url: string, allowPrivate: boolean): Promise<TargetProblem | null> {
  const parsed = parseWebhookUrl(url);
  if (!(parsed instanceof URL)) return parsed;
  if (allowPrivate) return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await dns.lookup(host, { all: true })).map((entry) => entry.address);
    } catch {
      return { reason: 'unresolvable', message: `the host ${host} cannot be resolved` };
    }
  }
  if (addresses.some(isNonPublicAddress)) {
    return { reason: 'private_address', message: 'resolves to a loopback, private or link-local address' };
  }
  return null;
}

/** A `lookup` for http(s).request that fails the connection when the name resolves to a non-public address. */
export function publicOnlyLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, result) => {
      if (error) return callback(error, '', 0);
      const addresses = result as unknown as LookupAddress[];
      const refused = !allowPrivate && addresses.some((entry) => isNonPublicAddress(entry.address));
      if (refused) return callback(Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: 'EPRIVATEADDRESS' }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}
