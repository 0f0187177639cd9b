import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { CreateAccessKeyCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam'
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  startEmulator,
  type Emulator,
  type RequestCounts,
  type SecretValueWrite,
  type StateSnapshot
} from './index.js'
import { AMBIENT, adminClients, clients, memberClients, NOW, testWorld } from './support.js'

async function getJson<T>(emulator: Emulator, path: string): Promise<T> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`)
  expect(response.status).toBe(200)
  return (await response.json()) as T
}

async function post(emulator: Emulator, path: string, body?: unknown): Promise<Response> {
  return fetch(`${emulator.url}/_emulator/${path}`, {
    method: 'POST',
    ...(body !== undefined && { body: JSON.stringify(body) })
  })
}

describe('inspection API and clock', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => emulator.loadWorld(testWorld()))

  it('shows the state, whole or per account', async () => {
    const state = await getJson<StateSnapshot>(emulator, 'state')
    expect(state.now.slice(0, 16)).toBe(NOW.slice(0, 16))
    expect(state.accounts.map(a => a.id)).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
      '444444444444',
      '555555555555'
    ])
    const dev = await getJson<StateSnapshot>(emulator, 'state?account=222222222222')
    const alice = dev.accounts[0]?.users.find(u => u.name === 'alice')
    expect(alice?.keys.map(k => [k.status, k.ageDays, k.lastUsed?.service ?? null])).toEqual([
      ['Active', 95, 'dynamodb'],
      ['Inactive', 10, null]
    ])
    expect(dev.accounts[0]?.roles.map(r => r.name)).toEqual([
      'iam-key-rotation-member',
      'iam-key-rotation-member-audit'
    ])
    expect(emulator.state('111111111111').accounts[0]?.roles.map(r => r.name)).toEqual([
      'iam-key-rotation-central',
      'iam-key-rotation-central-audit',
      'iam-key-rotation-central-dry-run',
      'iam-key-rotation-list-accounts'
    ])
  })

  it('logs requests (callers, never secrets) and counts them by account, service and operation', async () => {
    const dev = await memberClients(emulator, '222222222222')
    const created = await dev.iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))
    await dev.iam.send(new ListAccessKeysCommand({ UserName: 'nobody' })).catch(() => undefined)
    const log = await getJson<
      { account: string; operation: string; status: number; errorCode?: string; caller: string }[]
    >(emulator, 'requests')
    expect(log.map(e => [e.account, e.operation, e.status, e.errorCode ?? null])).toEqual([
      ['111111111111', 'AssumeRole', 200, null],
      ['222222222222', 'CreateAccessKey', 200, null],
      ['222222222222', 'ListAccessKeys', 404, 'NoSuchEntity']
    ])
    expect(log[1]?.caller).toBe(
      'arn:aws:sts::222222222222:assumed-role/iam-key-rotation-member/emulator-test'
    )
    const secrets = await getJson<string[]>(emulator, 'issued-secrets')
    expect(secrets).toContain(created.AccessKey?.SecretAccessKey)
    expect(secrets).toHaveLength(2) // the session's and the new key's
    const logText = JSON.stringify(log)
    for (const secret of secrets) expect(logText).not.toContain(secret)
    const counts = await getJson<RequestCounts>(emulator, 'request-counts')
    expect(counts).toEqual({
      total: 3,
      byAccount: { '111111111111': 1, '222222222222': 2 },
      byService: { sts: 1, iam: 2 },
      byOperation: { 'sts:AssumeRole': 1, 'iam:CreateAccessKey': 1, 'iam:ListAccessKeys': 1 },
      byErrorCode: { NoSuchEntity: 1 }
    })
    expect(emulator.requestCounts()).toEqual(counts)
  })

  it('keeps only the last N log entries, but every count', async () => {
    const small = await startEmulator({ world: testWorld(), requestLogSize: 3 })
    try {
      const { sts } = clients(small)
      for (let i = 0; i < 7; i++) await sts.send(new GetCallerIdentityCommand({}))
      expect(small.requests()).toHaveLength(3)
      expect(small.requests(2)).toHaveLength(2)
      expect(small.requestCounts().total).toBe(7)
    } finally {
      await small.close()
    }
  })

  it('moves the clock: ages grow, over HTTP and in process', async () => {
    expect(await getJson<{ now: string }>(emulator, 'clock')).toEqual({
      now: expect.stringMatching(/^2026-03-02T12:0/) as unknown
    })
    const advanced = await post(emulator, 'clock', { advanceDays: 10 })
    expect(((await advanced.json()) as { now: string }).now.slice(0, 10)).toBe('2026-03-12')
    const alice = () =>
      emulator.state('222222222222').accounts[0]?.users.find(u => u.name === 'alice')
    expect(alice()?.keys[0]?.ageDays).toBe(105)
    await post(emulator, 'clock', { now: '2027-01-01T00:00:00Z' })
    expect(emulator.now().toISOString().slice(0, 10)).toBe('2027-01-01')
    emulator.setNow('2026-03-02T12:00:00Z')
    emulator.advanceDays(-1)
    expect(alice()?.keys[0]?.ageDays).toBe(94)
    expect((await post(emulator, 'clock', { advanceDays: 'x' })).status).toBe(400)
  })

  it('uses the emulator clock for new keys', async () => {
    emulator.advanceDays(30)
    const dev = adminClients(emulator, '222222222222')
    const created = await dev.iam.send(new CreateAccessKeyCommand({ UserName: 'carol' }))
    expect(created.AccessKey?.CreateDate?.toISOString().slice(0, 10)).toBe('2026-04-01')
  })

  it('loads worlds and resets over HTTP, rejecting invalid worlds with the path of the problem', async () => {
    const loaded = await post(emulator, 'world', {
      organizationId: 'o-other00000',
      managementAccountId: '123456789012'
    })
    expect(await loaded.json()).toEqual({ ok: true, accounts: 1 })
    expect(emulator.state().organization.id).toBe('o-other00000')
    const invalid = await post(emulator, 'world', {
      organizationId: 'o-x',
      managementAccountId: '1',
      accounts: [{ id: '2', users: [{ name: 'u', keys: [{ ageDays: '9' }] }] }]
    })
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toEqual({
      error: 'world.accounts[0].users[0].keys[0].ageDays must be a number'
    })
    emulator.loadWorld(testWorld())
    await clients(emulator).sts.send(new GetCallerIdentityCommand({}))
    emulator.advanceDays(3)
    expect((await post(emulator, 'reset')).status).toBe(200)
    expect(emulator.requests()).toEqual([])
    expect(emulator.now().toISOString().slice(0, 10)).toBe(NOW.slice(0, 10))
    expect((await fetch(`${emulator.url}/_emulator/nothing`)).status).toBe(404)
  })

  it('serves mail over HTTP', async () => {
    expect(await getJson<unknown[]>(emulator, 'emails')).toEqual([])
  })

  it('serves the secret value writes over HTTP, as secretValueWrites() has them', async () => {
    expect(await getJson<unknown[]>(emulator, 'secret-value-writes')).toEqual([])
    await adminClients(emulator, '222222222222').secrets.send(
      new CreateSecretCommand({ Name: 'served', SecretString: 'v' })
    )
    const writes = await getJson<SecretValueWrite[]>(emulator, 'secret-value-writes')
    expect(writes).toEqual(emulator.secretValueWrites())
    expect(writes.map(w => [w.name, w.operation, w.hadResourcePolicy])).toEqual([
      ['served', 'CreateSecret', false]
    ])
  })
})

describe('wire details', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())

  it('is reachable through AWS_ENDPOINT_URL, as the action will configure it', async () => {
    const saved = process.env.AWS_ENDPOINT_URL
    process.env.AWS_ENDPOINT_URL = emulator.url
    try {
      const sts = new STSClient({ region: 'us-east-1', credentials: AMBIENT })
      expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe('111111111111')
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL
      else process.env.AWS_ENDPOINT_URL = saved
    }
  })

  it('routes SES signed as "email", refuses unsigned calls and unknown actions', async () => {
    const headers = (service: string) => ({
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDRAW/20260302/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
      'content-type': 'application/x-www-form-urlencoded'
    })
    const quota = await fetch(emulator.url, {
      method: 'POST',
      headers: headers('email'),
      body: 'Action=GetSendQuota&Version=2010-12-01'
    })
    expect(quota.status).toBe(200)
    expect(await quota.text()).toContain('<Max24HourSend>50000</Max24HourSend>')
    const unsigned = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListUsers&Version=2010-05-08'
    })
    expect(unsigned.status).toBe(403)
    expect(await unsigned.text()).toContain('<Code>MissingAuthenticationToken</Code>')
    const unknown = await fetch(emulator.url, {
      method: 'POST',
      headers: headers('iam'),
      body: 'Action=CreateVirtualMFADevice&Version=2010-05-08'
    })
    expect(unknown.status).toBe(400)
    expect(await unknown.text()).toContain('<Code>InvalidAction</Code>')
    const json = await fetch(emulator.url, {
      method: 'POST',
      headers: {
        ...headers('organizations'),
        'x-amz-target': 'AWSOrganizationsV20161128.CreateAccount',
        'content-type': 'application/x-amz-json-1.1'
      },
      body: '{}'
    })
    expect(await json.json()).toEqual({
      __type: 'UnknownOperationException',
      message: 'Unknown operation CreateAccount.'
    })
  })
})

describe('CLI', () => {
  it('starts from a world file, prints the URL and a hint, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/emulator/cli.ts',
        '--world',
        'examples/demo-world.json',
        '--port',
        '0'
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] }
    )
    let output = ''
    child.stdout.setEncoding('utf8')
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          output += chunk
          if (output.includes('export AWS_ENDPOINT_URL=')) resolve()
        })
        child.once('exit', code => reject(new Error(`CLI exited early (${code}): ${output}`)))
      })
      const url = /export AWS_ENDPOINT_URL=(\S+)/.exec(output)?.[1] ?? ''
      expect(output).toContain('examples/demo-world.json, 6 accounts')
      const health = await fetch(`${url}/_emulator/health`)
      expect(await health.json()).toEqual({ ok: true })
    } finally {
      child.kill('SIGTERM')
    }
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
  })
})
