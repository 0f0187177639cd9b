import { fetch, ProxyAgent, type RequestInit, type Response } from 'undici'
import { proxyFor, type Proxy, type ProxySettings } from './settings.js'

export type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>

/**
 * fetch (undici's, as @actions/github uses) that sends each request through the proxy of the
 * settings, or directly for NO_PROXY hosts: the same rules as the AWS clients' agents.
 */
export function proxyFetch(settings: ProxySettings): Fetch {
  const dispatchers = new Map<Proxy, ProxyAgent>()
  const dispatcher = (proxy: Proxy): ProxyAgent => {
    let agent = dispatchers.get(proxy)
    if (!agent) {
      agent = new ProxyAgent({
        // Without credentials in the URL: they travel as the header only.
        uri: proxy.url.href,
        ...(proxy.authorization ? { token: proxy.authorization } : {}),
        // http:// targets in absolute form, as the AWS clients' agents and curl send them.
        proxyTunnel: false
      })
      dispatchers.set(proxy, agent)
    }
    return agent
  }
  return (url, init) => {
    const proxy = proxyFor(settings, url)
    return fetch(url, { ...init, ...(proxy ? { dispatcher: dispatcher(proxy) } : {}) })
  }
}
