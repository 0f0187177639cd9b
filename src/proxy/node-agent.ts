import * as http from 'node:http'
import * as https from 'node:https'
import { HttpProxyAgent } from 'http-proxy-agent'
import { HttpsProxyAgent } from 'https-proxy-agent'
import { proxyForHost, type Proxy, type ProxySettings } from './settings.js'

/** What node:http passes to an agent for each request (`agent.addRequest`, not in @types/node). */
type RequestOptions = https.RequestOptions & { secureEndpoint?: boolean }
type PoolingAgent = http.Agent & {
  addRequest(request: http.ClientRequest, options: RequestOptions): void
}

/**
 * A node:http(s) agent that hands each request to one of two pools: through the proxy of the
 * settings, or direct for NO_PROXY hosts. Both pools are built with the given options, so
 * keep-alive sockets (CONNECT tunnels, for https://) are reused per target host and maxSockets
 * holds per target host, as with a plain agent.
 *
 * The choice is made synchronously in `addRequest`, where node:http hands a request to its
 * agent: the proxy agents must see the request before its header is written (the http:// one
 * rewrites the request line to absolute form), which an asynchronous choice would come too late for.
 */
export class ProxySelectingAgent extends http.Agent {
  private readonly direct: PoolingAgent
  private readonly proxied: PoolingAgent | undefined

  constructor(
    private readonly scheme: 'http:' | 'https:',
    private readonly settings: ProxySettings,
    options: https.AgentOptions = {}
  ) {
    // node:http asks the agent a request was given whether to keep its connection alive
    // (otherwise it sends `Connection: close`), so this one says what its pools do. It holds no
    // socket itself.
    super({ keepAlive: options.keepAlive ?? false })
    Object.assign(this, { protocol: scheme, defaultPort: scheme === 'https:' ? 443 : 80 })
    const proxy = scheme === 'https:' ? settings.https : settings.http
    this.direct = (
      scheme === 'https:' ? new https.Agent(options) : new http.Agent(options)
    ) as PoolingAgent
    this.proxied = proxy && (proxyAgent(scheme, proxy, options) as unknown as PoolingAgent)
  }

  addRequest(request: http.ClientRequest, options: RequestOptions): void {
    const secure = this.scheme === 'https:'
    const port = Number(options.port ?? (secure ? 443 : 80))
    const host = options.hostname ?? options.host ?? 'localhost'
    const pool =
      this.proxied && proxyForHost(this.settings, this.scheme, host, port)
        ? this.proxied
        : this.direct
    // secureEndpoint tells the proxy agents the scheme (they would guess it from the call stack).
    pool.addRequest(request, { ...options, secureEndpoint: secure })
  }

  override destroy(): void {
    this.direct.destroy()
    this.proxied?.destroy()
    super.destroy()
  }
}

function proxyAgent(scheme: 'http:' | 'https:', proxy: Proxy, options: https.AgentOptions) {
  // The credentials travel as a header, so the URL the library holds (and may log) has none.
  const headers = proxy.authorization ? { 'Proxy-Authorization': proxy.authorization } : {}
  const url = proxy.url.href
  // http:// targets: requests in absolute form to the proxy, as curl sends them (proxies often
  // refuse CONNECT to port 80). https:// targets: a CONNECT tunnel, with TLS to the target inside.
  return scheme === 'https:'
    ? new HttpsProxyAgent(url, { ...options, headers })
    : new HttpProxyAgent(url, { ...options, headers })
}
