import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect, isIP, type AddressInfo, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'

// A forward proxy on loopback, as a self-hosted runner's would be: CONNECT tunnels (https://
// targets, and whatever else a client tunnels) and requests in absolute form (http:// targets).
// It records every request it is asked to carry, and only ever connects to loopback itself.

export interface ProxiedRequest {
  /** CONNECT: a tunnel; forward: one request in absolute form (`GET http://host:port/path`). */
  readonly kind: 'CONNECT' | 'forward'
  /** host:port the client asked for, as it wrote it (IPv6 in brackets). */
  readonly target: string
  readonly method: string
  /** The path of a forwarded request; undefined for a tunnel. */
  readonly path?: string
  /** Whether it carried the proxy's credentials (always true for a proxy without any). */
  readonly authorized: boolean
}

export interface TestProxy {
  /** http://127.0.0.1:port, with the credentials when the proxy has some. */
  readonly url: string
  readonly port: number
  readonly requests: readonly ProxiedRequest[]
  /** Client connections accepted so far: fewer than requests when clients keep them alive. */
  connections(): number
  /** The targets of the recorded requests of one kind, each once. */
  targets(kind: ProxiedRequest['kind']): string[]
  close(): Promise<void>
}

export interface TestProxyOptions {
  /** Basic credentials the proxy requires (407 without them). */
  credentials?: { username: string; password: string }
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'upgrade'
])

/** The loopback address to dial for a target host, or undefined when it is not on loopback. */
function loopback(host: string): string | undefined {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (bare === 'localhost') return '127.0.0.1'
  if (bare === '::1') return '::1'
  // IPv4-mapped IPv6 (::ffff:127.0.0.1, which URLs write as ::ffff:7f00:1): dial the IPv4 form.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare)
  const v4 = mapped
    ? [
        parseInt(mapped[1] ?? '0', 16) >> 8,
        parseInt(mapped[1] ?? '0', 16) & 255,
        parseInt(mapped[2] ?? '0', 16) >> 8,
        parseInt(mapped[2] ?? '0', 16) & 255
      ].join('.')
    : (/^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare)?.[1] ?? bare)
  return isIP(v4) === 4 && v4.startsWith('127.') ? v4 : undefined
}

function headersWithout(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()))
  )
}

export async function startTestProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const { credentials } = options
  const expected = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    : undefined
  const requests: ProxiedRequest[] = []
  let connections = 0
  const open = new Set<Duplex>()
  const track = (socket: Duplex) => {
    open.add(socket)
    socket.once('close', () => open.delete(socket))
  }

  const server = createServer((request, response) => {
    const authorized = expected === undefined || request.headers['proxy-authorization'] === expected
    let url: URL
    try {
      url = new URL(request.url ?? '')
    } catch {
      // Origin form: the client took the proxy for the server.
      response.writeHead(400).end('a proxy needs absolute-form request targets')
      return
    }
    const record: ProxiedRequest = {
      kind: 'forward',
      target: url.host,
      method: request.method ?? 'GET',
      path: url.pathname + url.search,
      authorized
    }
    requests.push(record)
    if (!authorized) {
      response.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end()
      return
    }
    const address = loopback(url.hostname)
    if (!address) {
      response.writeHead(502).end(`the test proxy reaches loopback only, not ${url.host}`)
      return
    }
    const upstream = httpRequest(
      {
        host: address,
        port: url.port || 80,
        method: request.method,
        path: url.pathname + url.search,
        headers: headersWithout(request.headers)
      },
      reply => {
        response.writeHead(reply.statusCode ?? 502, headersWithout(reply.headers))
        reply.pipe(response)
      }
    )
    upstream.on('error', error => {
      if (!response.headersSent) response.writeHead(502)
      response.end(String(error))
    })
    request.pipe(upstream)
  })

  server.on('connect', (request, client: Socket, head: Buffer) => {
    track(client)
    const target = request.url ?? ''
    const authorized = expected === undefined || request.headers['proxy-authorization'] === expected
    requests.push({ kind: 'CONNECT', target, method: 'CONNECT', authorized })
    if (!authorized) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
      )
      return
    }
    let parsed: URL
    try {
      parsed = new URL(`http://${target}`)
    } catch {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const address = loopback(parsed.hostname)
    if (!address || !parsed.port) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const upstream = connect(Number(parsed.port), address, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    track(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })

  server.on('connection', () => connections++)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const auth = credentials
    ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@`
    : ''
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    port,
    requests,
    connections: () => connections,
    targets: kind => [...new Set(requests.filter(r => r.kind === kind).map(r => r.target))],
    close: () =>
      new Promise<void>(resolve => {
        for (const socket of open) socket.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
