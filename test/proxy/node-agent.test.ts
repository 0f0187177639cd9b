import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ProxySelectingAgent, proxySettingsFromEnv } from '../../src/proxy/index.js'
import { startTestProxy, type TestProxy } from '../support/connect-proxy.js'
import { testCertificate } from '../support/tls.js'

// The agents the AWS clients get, against an http:// and an https:// server on loopback, through
// a loopback proxy: which requests take the proxy, and that the keep-alive pool and maxSockets
// still hold per target host behind it. Tunnelled https:// targets are named `localhost`:
// https-proxy-agent checks a tunnelled server's certificate against its host name only (an IP
// target is checked as "localhost"), which is all AWS endpoints need.

const CREDENTIALS = { username: 'runner', password: 'pass word' }

interface Target {
  url: string
  connections: number
  close(): Promise<void>
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<Target> {
  const target: Target = {
    url: '',
    connections: 0,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
  server.on('connection', () => target.connections++)
  // Slow enough that concurrent requests overlap.
  server.on('request', (_request, response) => {
    setTimeout(() => response.end('ok'), 20)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const host = scheme === 'https' ? 'localhost' : '127.0.0.1'
  target.url = `${scheme}://${host}:${(server.address() as AddressInfo).port}`
  return target
}

function get(agent: ProxySelectingAgent, url: string): Promise<string> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url)
    // As the SDK's NodeHttpHandler calls it: host, port, path and the agent. The test's
    // certificate is trusted per request, as NODE_EXTRA_CA_CERTS would trust it for a process.
    const ca = testCertificate().cert
    request({ host: hostname, port, path: '/x', method: 'GET', agent, ca }, response => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve(`${response.statusCode} ${body}`))
    })
      .on('error', reject)
      .end()
  })
}

describe('ProxySelectingAgent', () => {
  let plain: Target
  let tls: Target
  let proxy: TestProxy
  const agents: ProxySelectingAgent[] = []

  beforeAll(async () => {
    const { key, cert } = testCertificate()
    plain = await listen(createHttpServer(), 'http')
    tls = await listen(createHttpsServer({ key, cert }), 'https')
  })
  afterAll(async () => {
    await plain.close()
    await tls.close()
  })
  afterEach(async () => {
    for (const agent of agents.splice(0)) agent.destroy()
    await proxy.close()
    plain.connections = 0
    tls.connections = 0
  })

  async function agentFor(scheme: 'http:' | 'https:', env: Record<string, string>) {
    proxy = await startTestProxy({ credentials: CREDENTIALS })
    const settings = proxySettingsFromEnv(
      Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('$PROXY', proxy.url)]))
    )
    const agent = new ProxySelectingAgent(scheme, settings!, { keepAlive: true, maxSockets: 2 })
    agents.push(agent)
    return agent
  }

  it('tunnels https:// through CONNECT, one tunnel reused for sequential requests', async () => {
    const agent = await agentFor('https:', { HTTPS_PROXY: '$PROXY' })
    for (let i = 0; i < 3; i++) expect(await get(agent, tls.url)).toBe('200 ok')
    expect(proxy.requests).toEqual([
      {
        kind: 'CONNECT',
        target: new URL(tls.url).host,
        method: 'CONNECT',
        authorized: true
      }
    ])
    expect(tls.connections).toBe(1)
  })

  it('opens at most maxSockets tunnels per host, and queues the rest on them', async () => {
    const agent = await agentFor('https:', { HTTPS_PROXY: '$PROXY' })
    const replies = await Promise.all(Array.from({ length: 8 }, () => get(agent, tls.url)))
    expect(replies).toEqual(Array(8).fill('200 ok'))
    expect(proxy.requests.filter(r => r.kind === 'CONNECT')).toHaveLength(2)
    expect(tls.connections).toBe(2)
  })

  it('sends http:// in absolute form over kept-alive proxy connections', async () => {
    const agent = await agentFor('http:', { HTTP_PROXY: '$PROXY' })
    for (let i = 0; i < 3; i++) expect(await get(agent, plain.url)).toBe('200 ok')
    const replies = await Promise.all(Array.from({ length: 6 }, () => get(agent, plain.url)))
    expect(replies).toEqual(Array(6).fill('200 ok'))
    expect(proxy.requests).toHaveLength(9)
    expect(proxy.requests.every(r => r.kind === 'forward' && r.path === '/x' && r.authorized)).toBe(
      true
    )
    expect(proxy.connections()).toBe(2)
  })

  it('goes direct to NO_PROXY hosts, with the same pooling', async () => {
    const agent = await agentFor('https:', { HTTPS_PROXY: '$PROXY', NO_PROXY: 'localhost' })
    const replies = await Promise.all(Array.from({ length: 5 }, () => get(agent, tls.url)))
    expect(replies).toEqual(Array(5).fill('200 ok'))
    expect(proxy.requests).toEqual([])
    expect(tls.connections).toBe(2)
  })

  it('goes direct for a scheme without a proxy', async () => {
    const agent = await agentFor('http:', { HTTPS_PROXY: '$PROXY' })
    expect(await get(agent, plain.url)).toBe('200 ok')
    expect(proxy.requests).toEqual([])
  })

  it('passes the proxy refusal on as the response', async () => {
    proxy = await startTestProxy({ credentials: CREDENTIALS })
    const settings = proxySettingsFromEnv({ HTTP_PROXY: proxy.url.replace('pass%20word', 'no') })
    const agent = new ProxySelectingAgent('http:', settings!, { keepAlive: true })
    agents.push(agent)
    expect(await get(agent, plain.url)).toBe('407 ')
    expect(proxy.requests).toEqual([expect.objectContaining({ authorized: false })])
  })
})
