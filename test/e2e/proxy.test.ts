import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type World } from '../emulator/index.js'
import { FakeGitHub } from '../issues/fake-github.js'
import { startTestProxy, type TestProxy } from '../support/connect-proxy.js'
import { ORG, planActions, runAgainstEmulator } from '../support/emulated-action.js'
import { startOidcTokenServer, type OidcTokenServer } from '../support/oidc-token-server.js'
import { errorLines, type ActionRun } from '../support/run-action.js'
import { startTlsFront, testCertificate, type TlsFront } from '../support/tls.js'

// A self-hosted runner behind a forward proxy: HTTPS_PROXY, HTTP_PROXY and NO_PROXY in the job's
// environment, a loopback proxy that records what it carries, and the emulator and the fake
// GitHub behind it, over https:// (as in production: CONNECT tunnels) and over http:// (requests
// in absolute form). Loopback is not exempt from the proxy unless NO_PROXY says so, which is what
// lets these tests see it.

const PROD = '222222222222'
const TOKEN = 'loopback-github-token-for-tests'
// Characters that must be percent-encoded in the proxy URL, to check they are decoded.
const CREDENTIALS = { username: 'runner', password: 'proxy-p@ss:w/rd' }

/** One key to rotate (AWS writes) and one blocked rotation (a GitHub issue). */
function world(): World {
  return {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: '111111111111',
    listAccountsRole: true,
    accounts: [
      { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
      {
        id: PROD,
        name: 'prod',
        email: 'prod@example.com',
        memberRole: true,
        users: [
          { name: 'deploy-bot', keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 1 }] },
          {
            name: 'ci-bot',
            tags: { owner: 'team@example.com' },
            keys: [
              { status: 'Active', ageDays: 120, lastUsedDaysAgo: 1 },
              { status: 'Active', ageDays: 20, lastUsedDaysAgo: 0 }
            ]
          }
        ]
      }
    ]
  }
}

interface Fixture {
  emulator: Emulator
  github: FakeGitHub
  proxy: TestProxy
  oidc: OidcTokenServer
  /** https:// in front of the emulator and of the fake GitHub. */
  tls: { aws: TlsFront; github: TlsFront }
}

async function withFixture(body: (f: Fixture) => Promise<void>): Promise<void> {
  const emulator = await startEmulator({ world: world() })
  const github = new FakeGitHub()
  await github.start()
  const proxy = await startTestProxy({ credentials: CREDENTIALS })
  const oidc = await startOidcTokenServer()
  const tls = {
    aws: await startTlsFront(emulator.port),
    github: await startTlsFront(Number(new URL(github.baseUrl).port))
  }
  try {
    await body({ emulator, github, proxy, oidc, tls })
  } finally {
    await tls.aws.close()
    await tls.github.close()
    await proxy.close()
    await oidc.close()
    await github.stop()
    await emulator.close()
  }
}

function run(
  f: Fixture,
  env: Record<string, string>,
  oidcUrl = f.oidc.env.ACTIONS_ID_TOKEN_REQUEST_URL
) {
  return runAgainstEmulator(
    f.emulator,
    {
      ...ORG,
      mode: 'enforce',
      'open-issues': 'true',
      'github-token': TOKEN,
      'role-to-assume': 'arn:aws:iam::111111111111:role/iam-key-rotation-central'
    },
    {
      env: {
        ...f.oidc.env,
        ACTIONS_ID_TOKEN_REQUEST_URL: oidcUrl,
        GITHUB_API_URL: f.github.baseUrl,
        GITHUB_REPOSITORY: `${f.github.owner}/${f.github.repo}`,
        ...env
      }
    }
  )
}

function expectRotatedAndIssueOpened(result: Awaited<ReturnType<typeof run>>, f: Fixture) {
  expect(result.exitCode, result.stdout).toBe(0)
  expect(planActions(result.plan!)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ user: 'deploy-bot', type: 'ROTATE', result: 'done' }),
      expect.objectContaining({ user: 'ci-bot', type: 'BLOCKED' })
    ])
  )
  expect(f.oidc.audiences).toEqual(['sts.amazonaws.com'])
  expect(f.github.issues.map(i => i.title)).toEqual([
    `IAM key rotation blocked: ci-bot in ${PROD} (prod)`
  ])
}

/**
 * The log without the `::add-mask::` commands; with `masked`, as the runner shows it, each value
 * they named replaced by ***.
 */
function visibleLog(result: ActionRun, masked = false): string {
  const lines = (result.stdout + result.stderr).split('\n')
  const values = lines
    .filter(line => line.startsWith('::add-mask::'))
    .map(line => line.slice('::add-mask::'.length))
    .filter(value => value !== '' && masked)
  return lines
    .filter(line => !line.startsWith('::add-mask::'))
    .map(line => values.reduce((text, value) => text.split(value).join('***'), line))
    .join('\n')
}

const host = (url: string) => new URL(url).host

/** The same loopback servers, named `localhost` as tunnelled https:// targets must be. */
function overHttps(f: Fixture) {
  return {
    aws: `https://localhost:${f.tls.aws.port}`,
    github: `https://localhost:${f.tls.github.port}`,
    env: {
      AWS_ENDPOINT_URL: `https://localhost:${f.tls.aws.port}`,
      GITHUB_API_URL: `https://localhost:${f.tls.github.port}`,
      // How a runner trusts a private CA (or a TLS-inspecting proxy's).
      NODE_EXTRA_CA_CERTS: testCertificate().certPath
    }
  }
}

/** Every proxied request carried the credentials, and `log` never shows them. */
function expectCredentialsNeverShown(f: Fixture, log: string) {
  expect(f.proxy.requests.length).toBeGreaterThan(0)
  expect(f.proxy.requests.filter(r => !r.authorized)).toEqual([])
  expect(log).not.toContain(CREDENTIALS.password)
  expect(log).not.toContain(encodeURIComponent(CREDENTIALS.password))
  expect(log).not.toContain(
    Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')
  )
}

describe.concurrent('a runner behind an HTTP(S) proxy, through dist/index.js', () => {
  it('tunnels every AWS, GitHub API and OIDC token connection through the proxy', () =>
    withFixture(async f => {
      const https = overHttps(f)
      // The OIDC token request is made by @actions/http-client, which reads the same variables
      // but always goes direct to localhost and 127.x. Written as IPv4-mapped IPv6 (the same
      // loopback server) its host is neither, so the test can see that it honours the proxy.
      const oidcUrl = f.oidc.env.ACTIONS_ID_TOKEN_REQUEST_URL.replace(
        '127.0.0.1',
        '[::ffff:127.0.0.1]'
      )
      const result = await run(
        f,
        // Lowercase for one, uppercase for the other: both spellings are read.
        { ...https.env, https_proxy: f.proxy.url, HTTP_PROXY: f.proxy.url },
        oidcUrl
      )
      expectRotatedAndIssueOpened(result, f)

      const address = `127.0.0.1:${f.proxy.port}`
      expect(result.stdout).toContain(
        `Proxy for AWS and GitHub API calls: https:// via ${address} (https_proxy), http:// via ${address} (HTTP_PROXY); NO_PROXY: none`
      )
      // The action prints no credential, not even one it masked.
      expectCredentialsNeverShown(f, visibleLog(result))

      // Only tunnels: to the emulator and GitHub (https://) and the token server (@actions/
      // http-client tunnels http:// too).
      expect(f.proxy.targets('forward')).toEqual([])
      expect(f.proxy.targets('CONNECT').sort()).toEqual(
        [host(https.aws), host(https.github), `[::ffff:7f00:1]:${new URL(oidcUrl).port}`].sort()
      )
      // Every connection the servers accepted came through a tunnel, none around the proxy...
      const tunnels = (url: string) =>
        f.proxy.requests.filter(r => r.kind === 'CONNECT' && r.target === host(url)).length
      expect(tunnels(https.aws)).toBe(f.tls.aws.connections())
      expect(tunnels(https.github)).toBe(f.tls.github.connections())
      // ...and tunnels are kept alive: many more requests than tunnels.
      expect(f.emulator.requestCounts().total).toBeGreaterThan(2 * tunnels(https.aws))
      expect(f.github.requests.length).toBeGreaterThan(tunnels(https.github))
    }))

  it('sends http:// requests to the proxy in absolute form, over kept-alive connections', () =>
    withFixture(async f => {
      const result = await run(f, {
        HTTPS_PROXY: f.proxy.url,
        http_proxy: f.proxy.url,
        // The proxy agents' own debug output, which prints each request with its headers.
        DEBUG: 'http-proxy-agent,https-proxy-agent'
      })
      expectRotatedAndIssueOpened(result, f)
      // The agents' debug output prints the Proxy-Authorization header, which the action masked.
      expectCredentialsNeverShown(f, visibleLog(result, true))
      expect(visibleLog(result, true)).toContain('Proxy-Authorization: Basic ***')

      // Each request the emulator and the fake GitHub served was one the proxy forwarded.
      const forwarded = (target: string) =>
        f.proxy.requests.filter(r => r.kind === 'forward' && r.target === target)
      expect(f.proxy.targets('forward').sort()).toEqual(
        [host(f.emulator.url), host(f.github.baseUrl)].sort()
      )
      expect(forwarded(host(f.emulator.url))).toHaveLength(f.emulator.requestCounts().total)
      expect(
        forwarded(host(f.github.baseUrl)).map(r => `${r.method} ${r.path?.split('?')[0]}`)
      ).toEqual(f.github.requests.map(r => `${r.method} ${r.path}`))
      expect(f.proxy.connections()).toBeLessThan(f.proxy.requests.length / 2)
      // The token server is on 127.0.0.1, which @actions/http-client never proxies.
      expect(f.proxy.targets('CONNECT')).toEqual([])
    }))

  it('goes direct to NO_PROXY hosts: a host:port entry exempts that server only', () =>
    withFixture(async f => {
      const https = overHttps(f)
      const github = host(https.github)
      const result = await run(f, {
        ...https.env,
        HTTPS_PROXY: f.proxy.url,
        HTTP_PROXY: f.proxy.url,
        NO_PROXY: `example.com, ${github}`
      })
      expectRotatedAndIssueOpened(result, f)
      expect(result.stdout).toContain(`NO_PROXY: example.com, ${github}`)
      // AWS through the proxy, GitHub around it.
      expect(f.proxy.targets('CONNECT')).toEqual([host(https.aws)])
      expect(f.tls.github.connections()).toBeGreaterThan(0)
    }))

  it('goes direct everywhere when NO_PROXY lists the host', () =>
    withFixture(async f => {
      const result = await run(f, {
        https_proxy: f.proxy.url,
        http_proxy: f.proxy.url,
        no_proxy: '.example.com,127.0.0.1'
      })
      expectRotatedAndIssueOpened(result, f)
      expect(f.proxy.requests).toEqual([])
    }))

  it('refuses a SOCKS proxy, naming the variable but not its password', () =>
    withFixture(async f => {
      const result = await run(f, {
        HTTPS_PROXY: `socks5://runner:${encodeURIComponent(CREDENTIALS.password)}@127.0.0.1:1080`
      })
      expect(result.exitCode).not.toBe(0)
      expect(errorLines(result).join('\n')).toContain(
        'HTTPS_PROXY is a socks5:// proxy: only http:// and https:// proxies are supported.'
      )
      expect(visibleLog(result)).not.toContain(encodeURIComponent(CREDENTIALS.password))
      expect(f.emulator.requestCounts().total).toBe(0)
    }))
})
