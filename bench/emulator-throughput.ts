/**
 * Throughput of the local AWS emulator.
 *   node --import tsx bench/emulator-throughput.ts [--requests 20000] [--concurrency 32]
 *        [--accounts 5] [--users 50] [--client raw|sdk]
 *
 * Cycles IAM GetUser (as a member-role session), STS GetCallerIdentity and Organizations
 * DescribeOrganization over keep-alive connections with bounded concurrency, then prints
 * requests per second, client-side p50/p99 latency and the emulator's own handling time.
 *
 * `raw` (default) sends the requests the SDK would send, pre-built, so the figure measures the
 * emulator; `sdk` goes through the real SDK clients, whose signing and parsing then dominate
 * (both share this one process).
 */
import { ListAccessKeysCommand, IAMClient } from '@aws-sdk/client-iam'
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations'
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { Agent, request } from 'node:http'
import { parseArgs } from 'node:util'
import { startEmulator, type Emulator, type World } from '../test/emulator/index.js'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    accounts: { type: 'string', default: '5' },
    users: { type: 'string', default: '50' },
    client: { type: 'string', default: 'raw' }
  }
})
const totalRequests = Number(values.requests)
const concurrency = Number(values.concurrency)
const accountCount = Number(values.accounts)
const usersPerAccount = Number(values.users)
const clientKind = values.client === 'sdk' ? 'sdk' : 'raw'

const AMBIENT = { accessKeyId: 'AKIDBENCHAMBIENT', secretAccessKey: 'bench' }
const MEMBER_ROLE_ARN = 'arn:aws:iam::200000000000:role/iam-key-rotation-member'
const LIST_ACCOUNTS_ROLE_ARN = 'arn:aws:iam::100000000000:role/iam-key-rotation-list-accounts'

type Call = () => Promise<unknown>

function world(): World {
  return {
    organizationId: 'o-bench00000',
    managementAccountId: '100000000000',
    accounts: Array.from({ length: accountCount }, (_, a) => ({
      id: String(200000000000 + a),
      name: `member-${a}`,
      memberRole: true,
      users: Array.from({ length: usersPerAccount }, (_, u) => ({
        name: `user-${u}`,
        tags: { owner: `user-${u}@example.com` },
        keys: [{ ageDays: (u * 7) % 120, lastUsedDaysAgo: u % 3 === 0 ? null : 1 }]
      }))
    }))
  }
}

const randomUser = (): string => `user-${Math.floor(Math.random() * usersPerAccount)}`

async function sdkCalls(emulator: Emulator): Promise<Call[]> {
  const config = {
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: AMBIENT,
    maxAttempts: 1
  }
  const sts = new STSClient(config)
  const session = async (roleArn: string) => {
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'bench' })
    )
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) throw new Error('no credentials')
    return {
      ...config,
      credentials: {
        accessKeyId: Credentials.AccessKeyId,
        secretAccessKey: Credentials.SecretAccessKey,
        ...(Credentials.SessionToken !== undefined && { sessionToken: Credentials.SessionToken })
      }
    }
  }
  // The calls the action makes, each as the role that makes it (IAM is evaluated on each).
  const iam = new IAMClient(await session(MEMBER_ROLE_ARN))
  const organizations = new OrganizationsClient(await session(LIST_ACCOUNTS_ROLE_ARN))
  return [
    () => iam.send(new ListAccessKeysCommand({ UserName: randomUser() })),
    () => sts.send(new GetCallerIdentityCommand({})),
    () => organizations.send(new DescribeOrganizationCommand({}))
  ]
}

/** The SDK's requests, pre-built: the emulator reads only the credential scope, not signatures. */
async function rawCalls(emulator: Emulator): Promise<Call[]> {
  const { port } = emulator
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const authorization = (accessKeyId: string, service: string): string =>
    `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/${service}/aws4_request, ` +
    'SignedHeaders=content-type;host;x-amz-date, Signature=0000'
  const send = (headers: Record<string, string>, body: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          agent,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }
        },
        response => {
          response.resume()
          response.on('end', () =>
            (response.statusCode ?? 500) < 300
              ? resolve(undefined)
              : reject(new Error(`HTTP ${response.statusCode}`))
          )
        }
      )
      outgoing.on('error', reject)
      outgoing.end(body)
    })
  const form = 'application/x-www-form-urlencoded'
  // Real sessions, so each call runs (and is authorized) as the role the action uses for it.
  const sts = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials: AMBIENT })
  const sessionKey = async (roleArn: string): Promise<string> => {
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'bench' })
    )
    return Credentials?.AccessKeyId ?? ''
  }
  const memberKey = await sessionKey(MEMBER_ROLE_ARN)
  const listAccountsKey = await sessionKey(LIST_ACCOUNTS_ROLE_ARN)
  return [
    () =>
      send(
        { authorization: authorization(memberKey, 'iam'), 'content-type': form },
        `Action=ListAccessKeys&Version=2010-05-08&UserName=${randomUser()}`
      ),
    () =>
      send(
        { authorization: authorization(AMBIENT.accessKeyId, 'sts'), 'content-type': form },
        'Action=GetCallerIdentity&Version=2011-06-15'
      ),
    () =>
      send(
        {
          authorization: authorization(listAccountsKey, 'organizations'),
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSOrganizationsV20161128.DescribeOrganization'
        },
        '{}'
      )
  ]
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

async function main(): Promise<void> {
  const emulator = await startEmulator({ world: world(), requestLogSize: 1000 })
  try {
    const calls = clientKind === 'sdk' ? await sdkCalls(emulator) : await rawCalls(emulator)
    const callAt = (index: number): Promise<unknown> => {
      const call = calls[index % calls.length]
      return call ? call() : Promise.resolve()
    }
    // Warm up connections and the JIT before measuring.
    await Promise.all(Array.from({ length: concurrency * 4 }, (_, i) => callAt(i)))
    const handledBefore = emulator.requestCounts().total

    const latencies = new Float64Array(totalRequests)
    let next = 0
    let failures = 0
    const started = performance.now()
    const worker = async (): Promise<void> => {
      for (let index = next++; index < totalRequests; index = next++) {
        const begin = performance.now()
        try {
          await callAt(index)
        } catch {
          failures += 1
        }
        latencies[index] = performance.now() - begin
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    const elapsedSeconds = (performance.now() - started) / 1000

    const sorted = Array.from(latencies).sort((a, b) => a - b)
    const handling = emulator
      .requests()
      .map(entry => entry.durationMs)
      .sort((a, b) => a - b)
    const handled = emulator.requestCounts().total - handledBefore
    console.log(
      `emulator throughput (${clientKind} client): ${accountCount} accounts × ${usersPerAccount} users`
    )
    console.log(
      `  requests     ${totalRequests} (${handled} handled, ${failures} failed), concurrency ${concurrency}`
    )
    console.log(`  elapsed      ${elapsedSeconds.toFixed(2)} s`)
    console.log(`  throughput   ${Math.round(totalRequests / elapsedSeconds)} req/s`)
    console.log(
      `  latency      p50 ${percentile(sorted, 50).toFixed(2)} ms · p99 ${percentile(sorted, 99).toFixed(2)} ms (client side)`
    )
    console.log(
      `  handling     p50 ${percentile(handling, 50).toFixed(3)} ms · p99 ${percentile(handling, 99).toFixed(3)} ms (emulator, last ${handling.length})`
    )
  } finally {
    await emulator.close()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
