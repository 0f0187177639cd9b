import { describe, expect, it } from 'vitest'
import {
  describeProxies,
  proxyAddress,
  proxyFor,
  ProxyConfigError,
  proxySettingsFromEnv
} from '../../src/proxy/index.js'

const P = 'http://proxy.example.com:3128'

/** host:port of the proxy a request to `url` would use, or 'direct'. */
function route(env: Record<string, string>, url: string): string {
  const settings = proxySettingsFromEnv(env)
  const proxy = settings && proxyFor(settings, url)
  return proxy ? proxyAddress(proxy) : 'direct'
}

describe('proxySettingsFromEnv', () => {
  it('is undefined without HTTPS_PROXY or HTTP_PROXY, whatever NO_PROXY says', () => {
    expect(proxySettingsFromEnv({})).toBeUndefined()
    expect(proxySettingsFromEnv({ NO_PROXY: '*', HTTPS_PROXY: '', http_proxy: '  ' })).toBe(
      undefined
    )
  })

  it.each([
    // variables, url, route
    [{ HTTPS_PROXY: P }, 'https://iam.amazonaws.com/', 'proxy.example.com:3128'],
    [{ https_proxy: P }, 'https://iam.amazonaws.com/', 'proxy.example.com:3128'],
    // Each scheme has its own variable, with no fallback from one to the other.
    [{ HTTPS_PROXY: P }, 'http://127.0.0.1:4566/', 'direct'],
    [{ HTTP_PROXY: P }, 'https://iam.amazonaws.com/', 'direct'],
    [{ HTTP_PROXY: P }, 'http://127.0.0.1:4566/', 'proxy.example.com:3128'],
    // The lowercase variable wins, as with curl and @actions/http-client; an empty one does not.
    [{ https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }, 'https://a.com', 'lower:1'],
    [{ https_proxy: '', HTTPS_PROXY: 'http://upper:2' }, 'https://a.com', 'upper:2'],
    // No scheme means http://; the port defaults by the proxy's scheme.
    [{ HTTPS_PROXY: 'proxy.internal:8080' }, 'https://a.com', 'proxy.internal:8080'],
    [{ HTTPS_PROXY: 'http://proxy.internal' }, 'https://a.com', 'proxy.internal:80'],
    [{ HTTPS_PROXY: 'https://proxy.internal' }, 'https://a.com', 'proxy.internal:443'],
    [{ HTTPS_PROXY: 'http://[fd00::1]:3128/' }, 'https://a.com', '[fd00::1]:3128']
  ])('%j: %s goes %s', (env, url, expected) => {
    expect(route(env, url)).toBe(expected)
  })

  it.each([
    // NO_PROXY, url, direct?
    ['*', 'https://sts.us-east-1.amazonaws.com/', true],
    // A domain, with or without a leading dot or `*.`, covers itself and every host under it.
    ['amazonaws.com', 'https://amazonaws.com/', true],
    ['amazonaws.com', 'https://sts.us-east-1.amazonaws.com/', true],
    ['.amazonaws.com', 'https://amazonaws.com/', true],
    ['.amazonaws.com', 'https://iam.amazonaws.com/', true],
    ['*.amazonaws.com', 'https://iam.amazonaws.com/', true],
    ['amazonaws.com', 'https://notamazonaws.com/', false],
    ['amazonaws.com', 'https://amazonaws.com.evil.example/', false],
    // Case-insensitive, comma or space separated, blanks ignored.
    ['example.com, , IAM.AmazonAWS.com', 'https://iam.amazonaws.com/', true],
    ['example.com internal', 'https://git.internal/', true],
    ['github.com', 'https://api.github.com/', true],
    // host:port covers that port only; 443 and 80 come from the scheme.
    ['api.github.com:443', 'https://api.github.com/', true],
    ['api.github.com:8443', 'https://api.github.com/', false],
    ['localhost:4566', 'http://localhost:4566/', true],
    ['localhost:4566', 'http://localhost:4567/', false],
    // Loopback is not implicitly exempt: it has to be listed.
    ['', 'http://127.0.0.1:4566/', false],
    ['example.com', 'http://localhost:4566/', false],
    ['127.0.0.1', 'http://127.0.0.1:4566/', true],
    ['127.0.0.1', 'http://127.0.0.2:4566/', false],
    // Address ranges match addresses only: names are not resolved.
    ['10.0.0.0/8', 'https://10.20.30.40/', true],
    ['10.0.0.0/8', 'https://11.0.0.1/', false],
    ['10.0.0.0/8', 'https://10.example.com/', false],
    ['169.254.169.254/32:80', 'http://169.254.169.254/latest/', true],
    // IPv6, written with or without brackets.
    ['::1', 'http://[::1]:4566/', true],
    ['[::1]:4566', 'http://[::1]:4566/', true],
    ['[::1]:4566', 'http://[::1]:4567/', false],
    ['fd00::/8', 'https://[fd12::5]/', true],
    ['0:0:0:0:0:0:0:1', 'http://[::1]:4566/', true],
    // An IP address is not a domain suffix.
    ['0.0.1', 'https://10.0.0.1/', false],
    // Garbage is ignored rather than taken for "everything".
    ['host:port:x, 10.0.0.0/99, *:443', 'https://a.example.com/', false]
  ])('NO_PROXY=%j: %s direct: %s', (noProxy, url, direct) => {
    const env = { HTTPS_PROXY: P, HTTP_PROXY: P, NO_PROXY: noProxy }
    expect(route(env, url) === 'direct').toBe(direct)
  })

  it('reads no_proxy before NO_PROXY', () => {
    const env = { HTTPS_PROXY: P, no_proxy: 'a.com', NO_PROXY: 'b.com' }
    expect(route(env, 'https://a.com')).toBe('direct')
    expect(route(env, 'https://b.com')).toBe('proxy.example.com:3128')
  })

  it('keeps credentials out of the URL and in one Proxy-Authorization value, all to be masked', () => {
    const settings = proxySettingsFromEnv({
      HTTPS_PROXY: 'http://me%40corp:p%40ss%3Aword@proxy.example.com:3128'
    })
    const proxy = settings?.https
    expect(proxy?.url.href).toBe('http://proxy.example.com:3128/')
    const token = Buffer.from('me@corp:p@ss:word').toString('base64')
    expect(proxy?.authorization).toBe(`Basic ${token}`)
    expect([...(settings?.secrets ?? [])].sort()).toEqual(
      ['p%40ss%3Aword', 'p@ss:word', token].sort()
    )
  })

  it('describes the proxies by host:port, never with their credentials', () => {
    const settings = proxySettingsFromEnv({
      https_proxy: 'http://user:hunter2@proxy.example.com:3128',
      no_proxy: '.internal,169.254.169.254'
    })
    const text = describeProxies(settings!)
    expect(text).toBe(
      'https:// via proxy.example.com:3128 (https_proxy), http:// direct; NO_PROXY: .internal, 169.254.169.254'
    )
    expect(text).not.toMatch(/user|hunter2/)
  })

  it.each([
    [{ HTTPS_PROXY: 'socks5://u:secret@127.0.0.1:1080' }, /HTTPS_PROXY is a socks5:\/\/ proxy/],
    [{ http_proxy: 'pac+https://example.com/p.pac' }, /http_proxy is a pac\+https:\/\/ proxy/],
    [{ HTTPS_PROXY: 'http://u:secret@[bad' }, /HTTPS_PROXY is not a proxy URL/]
  ])('refuses %j without repeating its value', (env, message) => {
    let error: unknown
    try {
      proxySettingsFromEnv(env)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ProxyConfigError)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain('secret')
  })
})
