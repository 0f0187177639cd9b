import { ListAccountsCommand } from '@aws-sdk/client-organizations'
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import type { MiddlewareStack } from '@smithy/types'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { rootCredentials } from './callers.js'
import { DAY_MS } from './clock.js'
import { startEmulator, type Emulator } from './index.js'
import { adminClients, clients, rejection, testWorld } from './support.js'

interface RawResponse {
  headers: Record<string, string | undefined>
}

/** The Date header of every raw response the client receives, successes and errors alike. */
function recordDates<I extends object, O extends object>(client: {
  middlewareStack: MiddlewareStack<I, O>
}): (string | undefined)[] {
  const dates: (string | undefined)[] = []
  client.middlewareStack.add(
    next => async args => {
      try {
        const out = await next(args)
        dates.push((out.response as RawResponse).headers['date'])
        return out
      } catch (error) {
        dates.push((error as { $response?: RawResponse }).$response?.headers['date'])
        throw error
      }
    },
    { step: 'deserialize', name: 'recordDates' }
  )
  return dates
}

/** Date headers have whole seconds. */
function expectAbout(date: string | undefined, expected: Date): void {
  expect(date).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/)
  expect(Math.abs(new Date(date ?? '').getTime() - expected.getTime())).toBeLessThan(2_000)
}

describe('the Date header', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => emulator.loadWorld(testWorld()))

  it('follows the emulator clock, not real time, in Query and JSON answers', async () => {
    const { sts } = clients(emulator)
    const dates = recordDates(sts)
    await sts.send(new GetCallerIdentityCommand({}))
    const before = emulator.now()
    emulator.advanceDays(90)
    await sts.send(new GetCallerIdentityCommand({}))
    expectAbout(dates[0], before)
    expectAbout(dates[1], emulator.now())
    expect(new Date(dates[1] ?? '').getTime() - new Date(dates[0] ?? '').getTime()).toBeGreaterThan(
      90 * DAY_MS - 2_000
    )
    // The world's clock is not the machine's: far from real time either way.
    expect(Math.abs(new Date(dates[1] ?? '').getTime() - Date.now())).toBeGreaterThan(DAY_MS)

    const { organizations } = clients(emulator)
    const jsonDates = recordDates(organizations)
    await organizations.send(new ListAccountsCommand({}))
    expectAbout(jsonDates[0], emulator.now())
  })

  it('dates errors too, of both protocols, and the inspection API', async () => {
    emulator.setNow('2030-01-01T00:00:00Z')
    const { secrets } = adminClients(emulator, '222222222222')
    const dates = recordDates(secrets)
    const missing = await rejection(secrets.send(new GetSecretValueCommand({ SecretId: 'none' })))
    expect(missing.name).toBe('ResourceNotFoundException')
    expect(dates[0]).toBe('Tue, 01 Jan 2030 00:00:00 GMT')

    const query = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=NoSuchAction&Version=2011-06-15'
    })
    expect(query.status).toBe(400)
    expectAbout(query.headers.get('date') ?? undefined, emulator.now())

    const health = await fetch(`${emulator.url}/_emulator/health`)
    expectAbout(health.headers.get('date') ?? undefined, emulator.now())
  })

  it('is a skew the SDK corrects: with the clock days away, it retries every error', async () => {
    // SDK v3 resamples its clock offset from each error's Date header; beyond 4 minutes of skew
    // it marks the error clockSkewCorrected, which its retry strategy treats as transient. So a
    // client whose clock differs from the emulator's retries even a ResourceNotFoundException,
    // unless it sets disableClockSkewCorrection.
    const attempts = async (config: { disableClockSkewCorrection?: boolean }) => {
      const client = new SecretsManagerClient({
        region: 'us-east-1',
        endpoint: emulator.url,
        credentials: rootCredentials('222222222222'),
        maxAttempts: 3,
        ...config
      })
      const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: 'none' })))
      expect(error.name).toBe('ResourceNotFoundException')
      return (error as { $metadata?: { attempts?: number } }).$metadata?.attempts
    }
    emulator.setNow(new Date())
    expect(await attempts({})).toBe(1)
    emulator.advanceDays(90)
    expect(await attempts({})).toBe(3)
    expect(await attempts({ disableClockSkewCorrection: true })).toBe(1)
  })
})
