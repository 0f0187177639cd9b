import { BlockList, isIP } from 'node:net'

/** One proxy, as read from HTTPS_PROXY or HTTP_PROXY. */
export interface Proxy {
  /** The variable it came from, as spelled in the environment (`https_proxy`, `HTTPS_PROXY`, …). */
  readonly variable: string
  /** The proxy's URL without credentials: libraries that log it cannot leak them. */
  readonly url: URL
  /** `Basic …` from the user and password in the variable, if it had any. */
  readonly authorization?: string
}

/** HTTPS_PROXY, HTTP_PROXY and NO_PROXY of a run, parsed once. */
export interface ProxySettings {
  /** For https:// targets (HTTPS_PROXY); they go direct without it. */
  readonly https?: Proxy
  /** For http:// targets (HTTP_PROXY); they go direct without it. */
  readonly http?: Proxy
  /** The NO_PROXY entries, as written (lowercase). */
  readonly noProxy: readonly string[]
  /** Which hosts NO_PROXY sends direct. */
  readonly bypass: Bypass
  /** What logs must mask: each proxy password (as written and decoded) and its header value. */
  readonly secrets: readonly string[]
}

/** A proxy variable that cannot be used; the message never contains its value. */
export class ProxyConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProxyConfigError'
  }
}

type Env = Readonly<Record<string, string | undefined>>

/**
 * The proxies of the environment, or undefined when neither HTTPS_PROXY nor HTTP_PROXY is set.
 * As curl and @actions/http-client read them: the lowercase variable first, then the uppercase;
 * HTTPS_PROXY only for https:// and HTTP_PROXY only for http:// targets; a proxy without a scheme
 * is http://. Only http:// and https:// proxies are supported (no SOCKS, no PAC).
 */
export function proxySettingsFromEnv(env: Env): ProxySettings | undefined {
  const secrets = new Set<string>()
  const https = readProxy(env, 'https_proxy', secrets)
  const http = readProxy(env, 'http_proxy', secrets)
  if (!https && !http) return undefined
  const noProxy = (variable(env, 'no_proxy')?.value ?? '')
    .split(/[\s,]+/)
    .map(entry => entry.trim().toLowerCase())
    .filter(entry => entry !== '')
  return {
    ...(https ? { https } : {}),
    ...(http ? { http } : {}),
    noProxy,
    bypass: new Bypass(noProxy),
    secrets: [...secrets]
  }
}

/** The proxy for a request to `target`, or undefined to connect directly. */
export function proxyFor(settings: ProxySettings, target: string | URL): Proxy | undefined {
  const url = typeof target === 'string' ? new URL(target) : target
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:'
  const port = url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80
  return proxyForHost(settings, protocol, url.hostname, port)
}

/** The proxy for a connection to host:port over http: or https:, or undefined to go direct. */
export function proxyForHost(
  settings: ProxySettings,
  protocol: 'http:' | 'https:',
  host: string,
  port: number
): Proxy | undefined {
  const proxy = protocol === 'https:' ? settings.https : settings.http
  if (!proxy || settings.bypass.matches(host, port)) return undefined
  return proxy
}

/** host:port of a proxy, for logs: never its credentials. */
export function proxyAddress(proxy: Proxy): string {
  const port = proxy.url.port || (proxy.url.protocol === 'https:' ? '443' : '80')
  return `${proxy.url.hostname}:${port}`
}

/** One line for the log: which proxy serves which targets, and what NO_PROXY exempts. */
export function describeProxies(settings: ProxySettings): string {
  const via = (scheme: string, proxy: Proxy | undefined) =>
    proxy ? `${scheme} via ${proxyAddress(proxy)} (${proxy.variable})` : `${scheme} direct`
  const exempt = settings.noProxy.length > 0 ? settings.noProxy.join(', ') : 'none'
  return `${via('https://', settings.https)}, ${via('http://', settings.http)}; NO_PROXY: ${exempt}`
}

function variable(env: Env, lowercase: string): { name: string; value: string } | undefined {
  for (const name of [lowercase, lowercase.toUpperCase()]) {
    const value = env[name]?.trim()
    if (value) return { name, value }
  }
  return undefined
}

function readProxy(env: Env, lowercase: string, secrets: Set<string>): Proxy | undefined {
  const found = variable(env, lowercase)
  if (!found) return undefined
  const { name, value } = found
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase()
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new ProxyConfigError(
      `${name} is a ${scheme}:// proxy: only http:// and https:// proxies are supported.`
    )
  }
  let url: URL
  try {
    url = new URL(scheme === undefined ? `http://${value}` : value)
  } catch {
    throw new ProxyConfigError(
      `${name} is not a proxy URL such as http://proxy.example.com:3128 (its value is not shown: it may hold a password).`
    )
  }
  if (!url.hostname) {
    throw new ProxyConfigError(`${name} names no proxy host.`)
  }
  const bare = new URL(`${url.protocol}//${url.host}`)
  if (url.username === '' && url.password === '') return { variable: name, url: bare }
  const password = decode(url.password)
  const token = Buffer.from(`${decode(url.username)}:${password}`).toString('base64')
  // A token is often given as the user name alone: it is as secret as a password.
  const user = decode(url.username)
  for (const secret of [url.password, password, token, ...(password ? [] : [url.username, user])])
    if (secret) secrets.add(secret)
  return { variable: name, url: bare, authorization: `Basic ${token}` }
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component)
  } catch {
    return component
  }
}

/**
 * NO_PROXY as curl reads it, with the `host:port` and `*.domain` forms other tools accept:
 * entries separated by commas (or spaces), case-insensitive; `*` exempts every host;
 * `example.com`, `.example.com` and `*.example.com` all exempt example.com and every host under
 * it; `host:port` exempts that port only (80 and 443 implied by the scheme); an IP address
 * (IPv6 with or without brackets) or range (`10.0.0.0/8`) exempts those addresses, not names that
 * resolve to them. Entries that are none of these are ignored. No host is exempt implicitly, not
 * even localhost: list it.
 */
export class Bypass {
  private readonly all: boolean
  private readonly names: { name: string; port?: number }[] = []
  private readonly addresses: { list: BlockList; port?: number }[] = []

  constructor(entries: readonly string[]) {
    let all = false
    for (const entry of entries) {
      if (entry === '*') {
        all = true
        continue
      }
      const parsed = splitPort(entry)
      if (!parsed) continue
      const { host, port } = parsed
      const only = port !== undefined ? { port } : {}
      const list = addressList(host)
      if (list) {
        this.addresses.push({ list, ...only })
        continue
      }
      const name = host.replace(/^\*?\.?/, '').replace(/\.$/, '')
      if (/^[a-z0-9_.-]+$/.test(name)) this.names.push({ name, ...only })
    }
    this.all = all
  }

  /** Whether a connection to host:port goes direct. */
  matches(hostname: string, port: number): boolean {
    if (this.all) return true
    const host = hostname
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/\.$/, '')
    const family = isIP(host)
    if (family !== 0) {
      const type = family === 6 ? 'ipv6' : 'ipv4'
      return this.addresses.some(
        ({ list, port: only }) => (only === undefined || only === port) && list.check(host, type)
      )
    }
    return this.names.some(
      ({ name, port: only }) =>
        (only === undefined || only === port) && (host === name || host.endsWith(`.${name}`))
    )
  }
}

/** An address or range (`10.0.0.0/8`, `fd00::/8`) as a BlockList; undefined for anything else. */
function addressList(host: string): BlockList | undefined {
  const [address = '', bits, ...rest] = host.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return undefined
  const type = family === 6 ? 'ipv6' : 'ipv4'
  const list = new BlockList()
  try {
    if (bits === undefined) list.addAddress(address, type)
    else if (/^\d+$/.test(bits)) list.addSubnet(address, Number(bits), type)
    else return undefined
  } catch {
    return undefined
  }
  return list
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address (no port then). */
function splitPort(entry: string): { host: string; port?: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
  if (bracketed) {
    const [, host = '', port] = bracketed
    return { host, ...(port !== undefined ? { port: Number(port) } : {}) }
  }
  const colons = entry.split(':').length - 1
  if (colons === 1) {
    const [host = '', port = ''] = entry.split(':')
    if (!/^\d+$/.test(port) || !host) return undefined
    return { host, port: Number(port) }
  }
  // More than one colon and no brackets: an IPv6 address (or range) without a port.
  return { host: entry }
}
