import {
  CreateAccessKeyCommand,
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListUsersCommand
} from '@aws-sdk/client-iam'
import { DescribeOrganizationCommand } from '@aws-sdk/client-organizations'
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type Faults } from './index.js'
import { assumeRole, clients, adminClients, rejection, testWorld } from './support.js'
import { parseFaults } from './world.js'

/** Outcome of `count` GetCallerIdentity calls: 'ok' or the error name. */
async function outcomes(emulator: Emulator, count: number): Promise<string[]> {
  const { sts } = clients(emulator)
  const results: string[] = []
  for (let i = 0; i < count; i++) {
    try {
      await sts.send(new GetCallerIdentityCommand({}))
      results.push('ok')
    } catch (error) {
      results.push((error as Error).name)
    }
  }
  return results
}

describe('fault injection', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => emulator.loadWorld(testWorld()))

  it('throttles with the service-specific error, reproducibly from the seed', async () => {
    const faults: Faults = { throttle: [{ service: 'sts', rate: 0.5 }], seed: 42 }
    emulator.setFaults(faults)
    const first = await outcomes(emulator, 30)
    emulator.setFaults(faults)
    const second = await outcomes(emulator, 30)
    expect(second).toEqual(first)
    expect(first).toContain('Throttling')
    expect(first).toContain('ok')
    emulator.setFaults({ throttle: [{ service: 'organizations', rate: 1 }] })
    const org = await rejection(
      clients(emulator).organizations.send(new DescribeOrganizationCommand({}))
    )
    expect(org.name).toBe('TooManyRequestsException')
    emulator.setFaults({ throttle: [{ service: 'secretsmanager', rate: 1 }] })
    const sm = await rejection(
      clients(emulator).secrets.send(new GetSecretValueCommand({ SecretId: 'x' }))
    )
    expect(sm.name).toBe('ThrottlingException')
  })

  it('throttles only the matching account and operation', async () => {
    const dev = adminClients(emulator, '222222222222')
    const prod = adminClients(emulator, '333333333333')
    emulator.setFaults({ throttle: [{ account: '222222222222', operation: 'ListUsers', rate: 1 }] })
    expect((await rejection(dev.iam.send(new ListUsersCommand({})))).name).toBe('Throttling')
    await expect(dev.iam.send(new GetUserCommand({ UserName: 'alice' }))).resolves.toBeDefined()
    await expect(prod.iam.send(new ListUsersCommand({}))).resolves.toBeDefined()
  })

  it('lets the SDK retry through throttling (the emulator is not the one giving up)', async () => {
    emulator.setFaults({ failNth: [{ operation: 'GetCallerIdentity', n: 1, code: 'Throttling' }] })
    const { sts } = clients(emulator, { maxAttempts: 3 })
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    expect(identity.$metadata.attempts).toBe(2)
  })

  it('fails the Nth call of an operation, `times` times, with the given or default error', async () => {
    emulator.setFaults({
      failNth: [
        { service: 'sts', operation: 'GetCallerIdentity', n: 2, times: 2 },
        { operation: 'ListUsers', n: 1, code: 'AccessDenied', message: 'nope' }
      ]
    })
    expect(await outcomes(emulator, 5)).toEqual([
      'ok',
      'InternalFailure',
      'InternalFailure',
      'ok',
      'ok'
    ])
    const dev = adminClients(emulator, '222222222222')
    const denied = await rejection(dev.iam.send(new ListUsersCommand({})))
    expect([denied.name, denied.message, denied.$metadata?.httpStatusCode]).toEqual([
      'AccessDenied',
      'nope',
      403
    ])
    emulator.setFaults({ failNth: [{ operation: 'ListUsers', n: 1 }] })
    const failure = await rejection(dev.iam.send(new ListUsersCommand({})))
    expect([failure.name, failure.$metadata?.httpStatusCode]).toEqual([
      'ServiceFailureException',
      500
    ])
  })

  it('delays requests by the configured latency', async () => {
    emulator.setFaults({ latencyMs: { min: 40, max: 60 } })
    const started = performance.now()
    await clients(emulator).sts.send(new GetCallerIdentityCommand({}))
    expect(performance.now() - started).toBeGreaterThanOrEqual(39)
    expect(emulator.requests(1)[0]?.durationMs).toBeGreaterThanOrEqual(39)
  })

  it('denies AssumeRole into listed accounts whatever the trust says', async () => {
    emulator.loadWorld(testWorld({ faults: { assumeRoleDenied: ['333333333333'] } }))
    expect((await rejection(assumeRole(emulator, '333333333333'))).name).toBe('AccessDenied')
    await expect(assumeRole(emulator, '222222222222')).resolves.toBeDefined()
  })

  it('makes the credential report unavailable in listed accounts', async () => {
    emulator.setFaults({ credentialReportUnavailable: ['222222222222'] })
    const dev = adminClients(emulator, '222222222222')
    await dev.iam.send(new GenerateCredentialReportCommand({}))
    await dev.iam.send(new GenerateCredentialReportCommand({}))
    const error = await rejection(dev.iam.send(new GetCredentialReportCommand({})))
    expect(error.name).toBe('CredentialReportNotPresentException')
    const prod = adminClients(emulator, '333333333333')
    await prod.iam.send(new GenerateCredentialReportCommand({}))
    await prod.iam.send(new GenerateCredentialReportCommand({}))
    await expect(prod.iam.send(new GetCredentialReportCommand({}))).resolves.toBeDefined()
  })

  it('takes faults over HTTP too', async () => {
    const response = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({
        failNth: [{ operation: 'GetCallerIdentity', n: 1, code: 'Throttling' }]
      })
    })
    expect(response.status).toBe(200)
    expect(await outcomes(emulator, 2)).toEqual(['Throttling', 'ok'])
    const bad = await fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ throttle: [{ rate: 'high' }] })
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: 'faults.throttle[0].rate must be a number' })
  })

  it('fails only the requests whose parameters match, when the rule names some', async () => {
    emulator.setFaults({
      failNth: [
        { operation: 'ListAccessKeys', params: { UserName: 'bob' }, n: 1, code: 'Throttling' }
      ]
    })
    const dev = adminClients(emulator, '222222222222')
    await expect(
      dev.iam.send(new ListAccessKeysCommand({ UserName: 'alice' }))
    ).resolves.toBeDefined()
    const bob = await rejection(dev.iam.send(new ListAccessKeysCommand({ UserName: 'bob' })))
    expect(bob.name).toBe('Throttling')
    // Only the first call for bob fails (alice's did not count).
    await expect(
      dev.iam.send(new ListAccessKeysCommand({ UserName: 'bob' }))
    ).resolves.toBeDefined()
    expect(() =>
      parseFaults({ failNth: [{ operation: 'ListAccessKeys', params: { UserName: 1 }, n: 1 }] })
    ).toThrow('faults.failNth[0].params.UserName must be a string')
  })

  describe('crash points', () => {
    const createKey = (userName: string, abortSignal?: AbortSignal) =>
      adminClients(emulator, '222222222222').iam.send(
        new CreateAccessKeyCommand({ UserName: userName }),
        abortSignal ? { abortSignal } : {}
      )
    const keysOf = (userName: string) =>
      emulator
        .state('222222222222')
        .accounts[0]?.users.find(user => user.name === userName)
        ?.keys.map(key => key.id) ?? []

    it('performs the Nth matching success, keeps its change, and never answers it', async () => {
      const crashed = emulator.crashAfter({
        service: 'iam',
        operation: 'CreateAccessKey',
        params: { UserName: 'carol' },
        n: 2
      })
      // Other users, and the first success for carol, are answered.
      await createKey('bob')
      await createKey('carol')
      const abort = new AbortController()
      const unanswered = rejection(createKey('carol', abort.signal))
      await crashed
      expect(keysOf('carol')).toHaveLength(2)
      expect(emulator.requests(1)[0]).toMatchObject({
        operation: 'CreateAccessKey',
        status: 200,
        held: true
      })
      // The caller hears nothing until it gives up.
      abort.abort()
      expect((await unanswered).name).toBe('AbortError')
      // The rule fired once: later requests are answered again.
      await expect(createKey('dave')).resolves.toBeDefined()
    })

    it('does not count failed requests, and survives setFaults', async () => {
      const crashed = emulator.crashAfter({ operation: 'CreateAccessKey' })
      emulator.setFaults({ failNth: [{ operation: 'CreateAccessKey', n: 1 }] })
      expect((await rejection(createKey('bob'))).name).toBe('ServiceFailureException')
      expect(await rejection(createKey('nobody'))).toMatchObject({ name: 'NoSuchEntityException' })
      const abort = new AbortController()
      const unanswered = rejection(createKey('bob', abort.signal))
      await crashed
      abort.abort()
      await unanswered
      expect(keysOf('bob')).toHaveLength(2)
    })

    it('rejects a crash point that never fired when the world is reloaded', async () => {
      const crashed = emulator.crashAfter({ operation: 'CreateAccessKey' })
      emulator.loadWorld(testWorld())
      await expect(crashed).rejects.toThrow('the world was reloaded before it fired')
      await expect(createKey('bob')).resolves.toBeDefined()
      expect(() => emulator.crashAfter({ operation: 'CreateAccessKey', n: 0 })).toThrow(
        'n must be a whole number'
      )
    })
  })
})
