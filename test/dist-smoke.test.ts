import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorLines, runAction } from './support/run-action.js'

/** Counts every request; with AWS_ENDPOINT_URL pointing here, any AWS call would land here. */
let requests = 0
/** The SDK's user-agent of each request: it names the Node version the action runs on. */
const userAgents: string[] = []
let server: Server
let endpoint: string

beforeAll(async () => {
  server = createServer((request, response) => {
    requests++
    userAgents.push(request.headers['user-agent'] ?? '')
    // Not retried (a 500 would be, ten times): one request per AWS call.
    response.writeHead(403).end()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>(resolve => server.close(() => resolve())))

const GOOD = {
  'organization-id': 'o-a1b2c3d4e5',
  'management-account-id': '111111111111',
  'sender-email': 'security@example.com'
}

const BAD_INPUTS: [string, string][] = [
  ['rotation-period-days', '0'],
  ['mode', 'delete-everything'],
  ['aws-region', 'moon-1'],
  ['role-to-assume', 'arn:aws:iam::1:role/x'],
  ['organization-id', 'org-123'],
  ['management-account-id', '12345'],
  ['accounts', '12345678901x'],
  ['exclude-accounts', 'prod'],
  ['organizational-units', 'Engineering'],
  ['installation-grace-days', '0'],
  ['recovery-grace-days', 'ten'],
  ['warning-days', '95'],
  ['inactive-period-days', '50'],
  ['force-rotate', '123:ci-bot'],
  ['conflict-resolution', 'newest'],
  ['secrets-location', 'everywhere'],
  ['notify', 'sometimes'],
  ['sender-email', 'not-an-email'],
  ['deploy-stacks', 'force'],
  ['max-concurrency', '1000'],
  ['shard', '3/2'],
  ['fail-on-account-error', 'nope']
]

describe('dist/index.js as a runner runs it', () => {
  it.each(BAD_INPUTS)('fails on a bad %s before any AWS call', async (input, value) => {
    const before = requests
    const run = await runAction({
      inputs: { ...GOOD, [input]: value },
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'AKIDSMOKETEST000000',
        AWS_SECRET_ACCESS_KEY: 'smoke-test-not-a-secret'
      }
    })
    expect(run.exitCode).not.toBe(0)
    const errors = errorLines(run)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`"${input}"`)
    expect(errors[0]).toContain(`"${value}"`)
    expect(requests - before).toBe(0)
  })

  it('fails on a missing required input, naming it', async () => {
    const run = await runAction({ inputs: { ...GOOD, 'organization-id': '' } })
    expect(run.exitCode).not.toBe(0)
    expect(errorLines(run)[0]).toContain('Input "organization-id" is empty: is required')
  })

  it('secrets-location central without its account and key names both inputs', async () => {
    const run = await runAction({ inputs: { ...GOOD, 'secrets-location': 'central' } })
    expect(run.exitCode).not.toBe(0)
    const [error] = errorLines(run)
    expect(error).toContain('"secrets-account-id"')
    expect(error).toContain('"kms-key-id"')
  })
})

describe('the runtime', () => {
  // .ci/run runs the e2e suite again under Node 24 (runs.using: node24) with EXPECT_NODE_MAJOR=24.
  it(`runs dist/index.js on the Node that runs the tests, ${process.version}`, async () => {
    const before = userAgents.length
    const run = await runAction({
      inputs: GOOD,
      env: {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'AKIDSMOKETEST000000',
        AWS_SECRET_ACCESS_KEY: 'smoke-test-not-a-secret'
      }
    })
    expect(run.exitCode).not.toBe(0)
    const sent = userAgents.slice(before)
    expect(sent.length).toBeGreaterThan(0)
    for (const agent of sent) expect(agent).toContain(` md/nodejs#${process.versions.node} `)
    const expected = process.env.EXPECT_NODE_MAJOR
    if (expected) expect(process.versions.node.split('.')[0]).toBe(expected)
  })
})

describe('the bundle', () => {
  it('carries no test-only code: no policy simulator (AGPL-3.0) and no emulator', () => {
    const root = join(import.meta.dirname, '..')
    const licenses = readFileSync(join(root, 'dist', 'licenses.txt'), 'utf8')
    expect(licenses).not.toMatch(/@cloud-copilot|AGPL/i)
    const bundle = readFileSync(join(root, 'dist', 'index.js'), 'utf8')
    expect(bundle).not.toContain('iam-simulate')
    expect(bundle).not.toContain('EMULATORROOT')
  })
})
