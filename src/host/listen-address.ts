/**
 * Where the exporter listens: `[HOST:]PORT`, the loopback unless told. An
 * exporter publishes what the host's VMs are doing, so it is reachable from
 * elsewhere only when the operator names an address, as is the convention
 * for Prometheus exporters.
 */
import { isIP } from "node:net";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The host when only a port is given. */
export const DEFAULT_LISTEN_HOST = "127.0.0.1";
export const MAX_PORT = 65535;

/** What `parseListenAddress` allows, in words: the end of a refusal's message. */
export const LISTEN_ADDRESS_ALLOWED = `[HOST:]PORT, PORT from 0 (any free port) to ${MAX_PORT}, HOST an IPv4 address, [IPv6] in brackets or a host name; 127.0.0.1 unless given`;

/**
 * A host name as DNS allows it: dot-separated labels of letters, digits and
 * inner hyphens, the last one not all digits (so `300.1.1.1` is a bad IPv4
 * address, not a name).
 */
const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*(?![0-9]+$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * `9464`, `0.0.0.0:9464`, `[::1]:9464` or `localhost:9464` as a host and a
 * port; null for anything else (the caller words the refusal, naming its flag
 * or option). A bare IPv6 address needs brackets: its colons would be read as
 * the port's.
 */
export function parseListenAddress(text: string): ListenAddress | null {
  const colon = text.lastIndexOf(":");
  const portText = colon < 0 ? text : text.slice(colon + 1);
  const hostText = colon < 0 ? DEFAULT_LISTEN_HOST : text.slice(0, colon);
  const port = parsePort(portText);
  const host = parseHost(hostText);
  return port === null || host === null ? null : { host, port };
}

function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= MAX_PORT ? port : null;
}

function parseHost(text: string): string | null {
  const bracketed = /^\[(.*)\]$/.exec(text);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? bracketed[1]! : null;
  if (isIP(text) === 4) return text;
  return isIP(text) === 0 && HOST_NAME.test(text) ? text : null;
}

/** `host:port` as a URL's authority writes it (an IPv6 host in brackets). */
export function formatListenAddress({ host, port }: ListenAddress): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
