import { DetachUserPolicyCommand, IAMClient } from '@aws-sdk/client-iam'
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  SecretsManagerClient,
  UpdateSecretCommand
} from '@aws-sdk/client-secrets-manager'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { afterEach, describe, expect, it } from 'vitest'
import { rootCredentials } from '../emulator/callers.js'
import { readSecretAs } from '../support/emulator-clients.js'
import { startEmulator, type Emulator, type World } from '../emulator/index.js'
import type { Faults } from '../emulator/faults.js'
import type { WorldUser } from '../emulator/world.js'
import type { Plan } from '../../src/plan/types.js'
import {
  ORG,
  planActions,
  runAgainstEmulator,
  type EmulatedRun
} from '../support/emulated-action.js'

// Issue 13: a rotation is done only when its user can read the new key, and nobody else can.
// Each case the security review reproduced, through dist/index.js against the emulator, whose
// IAM evaluation (the templates' roles, the secret's resource policy, the user's own policies)
// decides every call, the user's reads of its secret included.

const ACCOUNT = '222222222222'
const REGION = 'us-east-1'
const ENFORCE = { ...ORG, mode: 'enforce' }
const SECRET = `iam-key-rotation/${ACCOUNT}/app`
/** Ten AWS managed policies: IAM's quota of managed policies per user, reached. */
const TEN_POLICIES = Array.from(
  { length: 10 },
  (_, i) => `arn:aws:iam::aws:policy/ExamplePolicy${i}`
)

function world(users: WorldUser[], faults?: Faults): World {
  return {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: '111111111111',
    listAccountsRole: true,
    accounts: [
      { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
      { id: ACCOUNT, name: 'prod', email: 'prod@example.com', memberRole: true, users }
    ],
    ...(faults ? { faults } : {})
  }
}

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

async function start(users: WorldUser[], faults?: Faults): Promise<Emulator> {
  emulator = await startEmulator({ world: world(users, faults) })
  return emulator
}

function clientConfig(
  emu: Emulator,
  credentials: { accessKeyId: string; secretAccessKey: string }
) {
  return { region: REGION, endpoint: emu.url, credentials, disableClockSkewCorrection: true }
}

/** What the member account's administrator does by hand (its root: anything). */
function admin(emu: Emulator) {
  const config = clientConfig(emu, rootCredentials(ACCOUNT))
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config) }
}

/** The application: the IAM user reading its secret with one of its own keys. */
async function userReads(emu: Emulator, accessKeyId: string): Promise<string> {
  const client = new SecretsManagerClient(
    clientConfig(emu, { accessKeyId, secretAccessKey: 'emulator-does-not-check-signatures' })
  )
  try {
    const value = await client.send(new GetSecretValueCommand({ SecretId: SECRET }))
    return (JSON.parse(value.SecretString ?? '{}') as { AccessKeyId?: string }).AccessKeyId ?? ''
  } finally {
    client.destroy()
  }
}

async function use(emu: Emulator, accessKeyId: string): Promise<void> {
  const sts = new STSClient(
    clientConfig(emu, { accessKeyId, secretAccessKey: 'emulator-does-not-check-signatures' })
  )
  await sts.send(new GetCallerIdentityCommand({}))
  sts.destroy()
}

function account(emu: Emulator) {
  const found = emu.state(ACCOUNT).accounts.find(a => a.id === ACCOUNT)
  if (!found) throw new Error('no account')
  return found
}

function keysOf(emu: Emulator, userName = 'app') {
  const found = account(emu).users.find(u => u.name === userName)
  if (!found) throw new Error(`no user ${userName}`)
  return [...found.keys].sort((a, b) => a.createDate.localeCompare(b.createDate))
}

function secretOf(emu: Emulator) {
  return account(emu).secrets.find(s => s.name === SECRET && s.region === REGION)
}

function actionsOf(run: EmulatedRun) {
  return planActions(run.plan as Plan)
    .filter(a => a.user === 'app')
    .map(a => [a.type, a.reason, a.result])
}

function planUser(run: EmulatedRun) {
  return (run.plan as Plan).accounts.flatMap(a => a.users).find(u => u.userName === 'app')
}

async function enforce(emu: Emulator, inputs: Record<string, string> = {}) {
  const run = await runAgainstEmulator(emu, { ...ENFORCE, ...inputs })
  expect(run.plan, run.stdout + run.stderr).toBeDefined()
  return run
}

/** No value was ever written into a secret that lacked its resource policy at that moment. */
function expectEveryValueProtected(emu: Emulator): void {
  const writes = emu.secretValueWrites()
  expect(writes.length).toBeGreaterThan(0)
  expect(writes.filter(write => !write.hadResourcePolicy)).toEqual([])
}

describe('attach fails: the rotation is failed, repaired later, and the old key waits', () => {
  it('LimitExceeded is named with its fix; no deactivation while the user cannot read its key', async () => {
    const emu = await start([
      {
        name: 'app',
        attachedPolicies: TEN_POLICIES,
        keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }]
      }
    ])
    const [old] = keysOf(emu)

    const rotation = await enforce(emu)
    expect(actionsOf(rotation)).toEqual([['ROTATE', 'EXPIRED_ACTIVE_KEY', 'failed']])
    expect(rotation.exitCode).not.toBe(0)
    const rotate = planUser(rotation)?.actions[0]
    expect(rotate?.error).toMatch(
      /this user has 10 managed policies; detach one or raise the quota/
    )
    expect(rotation.summary).toContain('10 managed policies')
    const [, replacement] = keysOf(emu)
    expect(replacement).toBeDefined()
    expect(keysOf(emu).map(k => k.status)).toEqual(['Active', 'Active'])
    // The new key is stored, but the rotation is incomplete: the old key must wait for the grant.

    // Day 100, the grant still missing: the old key stays active, the repair fails loudly.
    emu.advanceDays(10)
    const waiting = await enforce(emu)
    expect(actionsOf(waiting)).toEqual([['WARN', 'DEACTIVATION_WAITS_FOR_NEW_KEY', 'planned']])
    expect(planUser(waiting)?.actions[0]?.detail).toMatch(
      /iam-key-rotation-read-own-secret is not attached/
    )
    expect(planUser(waiting)?.secret?.repairs).toEqual([
      expect.objectContaining({
        result: 'failed',
        error: expect.stringMatching(/10 managed policies/) as unknown
      })
    ])
    expect(waiting.exitCode).not.toBe(0)
    expect(keysOf(emu)[0]?.status).toBe('Active')

    // A person frees a slot: the next run attaches the grant, the one after deactivates.
    await admin(emu).iam.send(
      new DetachUserPolicyCommand({ UserName: 'app', PolicyArn: TEN_POLICIES[0] })
    )
    const repaired = await enforce(emu)
    expect(planUser(repaired)?.secret?.repairs).toEqual([
      expect.objectContaining({ result: 'done' })
    ])
    expect(repaired.exitCode, repaired.stdout).toBe(0)
    expect(await userReads(emu, old!.id)).toBe(replacement!.id)

    const deactivation = await enforce(emu)
    expect(actionsOf(deactivation)).toEqual([['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'done']])
    expect(keysOf(emu).map(k => k.status)).toEqual(['Inactive', 'Active'])
    expectEveryValueProtected(emu)
  })
})

describe('protect fails: no value ever exists without the resource policy', () => {
  it('the rotation fails, the key is taken back, and the next run repairs the policy and rotates', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }], {
      failNth: [
        { account: ACCOUNT, operation: 'PutResourcePolicy', n: 1, code: 'AccessDeniedException' }
      ]
    })
    const before = keysOf(emu).map(k => k.id)
    const failed = await enforce(emu)
    expect(actionsOf(failed)).toEqual([['ROTATE', 'EXPIRED_ACTIVE_KEY', 'failed']])
    expect(failed.exitCode).not.toBe(0)
    expect(keysOf(emu).map(k => k.id)).toEqual(before)
    // The secret exists, empty: created with nothing in it, and no value without its policy.
    expect(secretOf(emu)?.versions).toEqual([])
    expect(emu.secretValueWrites()).toEqual([])

    const next = await enforce(emu)
    // The first run stopped before its grant: both are put right before the value is written.
    expect(planUser(next)?.secret?.repairs).toEqual([
      expect.objectContaining({
        problem: expect.stringMatching(/has no resource policy/) as unknown,
        result: 'done'
      }),
      expect.objectContaining({
        problem: expect.stringMatching(/is not attached/) as unknown,
        result: 'done'
      })
    ])
    expect(actionsOf(next)).toEqual([['ROTATE', 'EXPIRED_ACTIVE_KEY', 'done']])
    expect(next.exitCode, next.stdout).toBe(0)
    expectEveryValueProtected(emu)
    const [old, replacement] = keysOf(emu)
    expect(await userReads(emu, old!.id)).toBe(replacement!.id)
  })

  it('drift after the rotation: audit plans the repair, enforce puts the policy back', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    await enforce(emu)
    const { secrets } = admin(emu)
    await secrets.send(new DeleteResourcePolicyCommand({ SecretId: SECRET }))

    emu.advanceDays(1)
    const audit = await runAgainstEmulator(emu, { ...ORG, mode: 'audit' })
    expect(planUser(audit)?.secret?.repairs).toEqual([
      expect.objectContaining({
        result: 'planned',
        remedy: expect.stringMatching(/owner-only/) as unknown
      })
    ])
    expect(audit.plan?.totals.secretRepairs).toBe(1)
    expect(secretOf(emu)?.resourcePolicy).toBeNull()

    const run = await enforce(emu)
    expect(planUser(run)?.secret?.repairs).toEqual([expect.objectContaining({ result: 'done' })])
    expect(secretOf(emu)?.resourcePolicy).toContain('NobodyElseReads')
    expect(run.summary).toContain('Secrets not as the tool made them')
  })
})

describe('a secret someone changed after the rotation', () => {
  it('a foreign KMS key and moved replicas: audit plans the repairs, enforce makes them, and the deactivation waits for the check', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const replicas = { 'secret-replica-regions': 'us-west-2' }
    await enforce(emu, replicas)
    expect(secretOf(emu)?.replicas.map(r => r.region)).toEqual(['us-west-2'])

    const { secrets } = admin(emu)
    await secrets.send(
      new UpdateSecretCommand({
        SecretId: SECRET,
        KmsKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/not-the-configured-one`
      })
    )
    await secrets.send(
      new RemoveRegionsFromReplicationCommand({
        SecretId: SECRET,
        RemoveReplicaRegions: ['us-west-2']
      })
    )
    await secrets.send(
      new ReplicateSecretToRegionsCommand({
        SecretId: SECRET,
        AddReplicaRegions: [{ Region: 'ap-south-1' }]
      })
    )

    emu.advanceDays(1)
    const audit = await runAgainstEmulator(emu, { ...ORG, mode: 'audit', ...replicas })
    expect(planUser(audit)?.secret?.repairs.map(r => [r.remedy, r.result])).toEqual([
      [
        'encrypt it with aws/secretsmanager again (a person must, if the role may not decrypt with the other key)',
        'planned'
      ],
      ['remove the replicas in ap-south-1, then replicate to us-west-2', 'planned']
    ])

    const repaired = await enforce(emu, replicas)
    expect(planUser(repaired)?.secret?.repairs.map(r => r.result)).toEqual(['done', 'done'])
    expect(secretOf(emu)?.kmsKeyId).toBeNull()
    expect(secretOf(emu)?.replicas.map(r => r.region)).toEqual(['us-west-2'])

    // Day 100: the audit asks IAM whether the user can read its key before it plans the deactivation.
    emu.advanceDays(9)
    const due = await runAgainstEmulator(emu, { ...ORG, mode: 'audit', ...replicas })
    expect(actionsOf(due)).toEqual([['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'planned']])
    const operations = emu.requests().map(r => `${r.service}:${r.operation}`)
    expect(operations).toContain('iam:SimulatePrincipalPolicy')
  })
})

describe('a secret someone scheduled for deletion', () => {
  it('is restored by enforce mode before its user loses the key', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    await enforce(emu)
    await admin(emu).secrets.send(
      new DeleteSecretCommand({ SecretId: SECRET, RecoveryWindowInDays: 7 })
    )
    expect(secretOf(emu)?.deleted).toBe(true)
    emu.advanceDays(1)
    const run = await enforce(emu)
    expect(planUser(run)?.secret?.repairs.map(r => [r.remedy, r.result])).toEqual([
      ['restore it (RestoreSecret)', 'done']
    ])
    expect(secretOf(emu)?.deleted).toBe(false)
    const [old, replacement] = keysOf(emu)
    expect(await userReads(emu, old!.id)).toBe(replacement!.id)
  })
})

describe('a pre-created secret is never written', () => {
  const theirPolicy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*'
      }
    ]
  }

  async function preCreate(emu: Emulator) {
    const { secrets } = admin(emu)
    await secrets.send(
      new CreateSecretCommand({ Name: SECRET, SecretString: 'theirs', Description: 'planted' })
    )
    await secrets.send(
      new PutResourcePolicyCommand({
        SecretId: SECRET,
        ResourcePolicy: JSON.stringify(theirPolicy)
      })
    )
    return structuredClone(secretOf(emu))
  }

  it('SECRET_NOT_OWNED: BLOCKED with an issue-ready reason, the secret unchanged, no extra key', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const planted = await preCreate(emu)
    const before = keysOf(emu).map(k => k.id)
    const run = await enforce(emu)
    expect(actionsOf(run)).toEqual([['BLOCKED', 'SECRET_NOT_OWNED', 'planned']])
    expect(planUser(run)?.actions[0]?.detail).toMatch(
      /has no marker.*Delete that secret or change secret-name-prefix/
    )
    expect(planUser(run)?.secret).toMatchObject({ owned: false, name: SECRET })
    expect(keysOf(emu).map(k => k.id)).toEqual(before)
    expect(secretOf(emu)).toEqual(planted)
    expect(run.outputs['has-conflicts']).toBeDefined()
  })

  it('secrets that cannot be listed fail the account: no key is made on a guess', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }], {
      failNth: [{ account: ACCOUNT, operation: 'ListSecrets', n: 1, code: 'AccessDeniedException' }]
    })
    const planted = await preCreate(emu)
    const before = keysOf(emu).map(k => k.id)
    const run = await enforce(emu)
    expect(run.exitCode).not.toBe(0)
    const prod = run.plan?.accounts.find(a => a.accountId === ACCOUNT)
    expect(prod?.status).toBe('failed')
    expect(prod?.error).toMatch(/the users' secrets could not be listed/)
    expect(keysOf(emu).map(k => k.id)).toEqual(before)
    expect(secretOf(emu)).toEqual(planted)
  })
})

describe('old-key-in-use: wait', () => {
  it('holds a deactivation while the old key is used, names where, then deactivates once it is quiet', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const inputs = { 'old-key-in-use': 'wait', 'old-key-quiet-days': '2' }
    await enforce(emu, inputs)
    const [old] = keysOf(emu)

    emu.advanceDays(10)
    await use(emu, old!.id)
    const held = await enforce(emu, inputs)
    expect(actionsOf(held)).toEqual([['BLOCKED', 'OLD_KEY_STILL_IN_USE', 'planned']])
    expect(planUser(held)?.actions[0]?.detail).toMatch(
      /^Last used \S+ \(sts in us-east-1\); it is deactivated once unused for 2 days/
    )
    expect(keysOf(emu)[0]?.status).toBe('Active')

    emu.advanceDays(2)
    const quiet = await enforce(emu, inputs)
    expect(actionsOf(quiet)).toEqual([['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'done']])
    expect(keysOf(emu)[0]?.status).toBe('Inactive')
  })

  it('rejects any other value, naming the input and the allowed values, before any AWS call', async () => {
    const emu = await start([])
    const run = await runAgainstEmulator(emu, { ...ENFORCE, 'old-key-in-use': 'later' })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout + run.stderr).toMatch(/old-key-in-use.*"deactivate".*"wait"/s)
    expect(emu.requestCounts().total).toBe(0)
  })
})

describe('the first rotation of a user', () => {
  it('creates the secret with its policy, then writes the value: no probe, no second tag call', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const run = await enforce(emu)
    expect(actionsOf(run)).toEqual([['ROTATE', 'EXPIRED_ACTIVE_KEY', 'done']])
    const calls = emu
      .requests()
      .filter(r => r.service === 'secretsmanager' && r.account === ACCOUNT)
      .map(r => `${r.operation}${r.errorCode ? ` ${r.errorCode}` : ''}`)
    expect(calls).toEqual(['ListSecrets', 'CreateSecret', 'PutResourcePolicy', 'PutSecretValue'])
    expect(emu.secretValueWrites()).toEqual([
      expect.objectContaining({
        name: SECRET,
        operation: 'PutSecretValue',
        hadResourcePolicy: true
      })
    ])
    const [old, replacement] = keysOf(emu)
    expect(await userReads(emu, old!.id)).toBe(replacement!.id)
  })
})

// KMS keys are regional: each replica is encrypted with a key of its own region. The emulator
// fails a replica whose key does not resolve there, as AWS does (kms-replicas.test.ts).
describe('replicas under their own region’s key (secrets-location central)', () => {
  const SECRETS = '999999999999'
  const CENTRAL = {
    ...ENFORCE,
    'secrets-location': 'central',
    'secrets-account-id': SECRETS
  }
  const EU_KEY_ID = '66666666-7777-8888-9999-000000000000'
  const EU_KEY = `arn:aws:kms:eu-west-1:${SECRETS}:key/${EU_KEY_ID}`
  const centralSecret = `iam-key-rotation/${ACCOUNT}/app`

  async function startCentral(
    secretsKey: { parameters?: Record<string, string>; replicaRegions?: string[] },
    extra: Partial<World> = {}
  ): Promise<{ emu: Emulator; keyArn: string }> {
    const base = world([{ name: 'app', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    emulator = await startEmulator({
      world: {
        ...base,
        ...extra,
        bootstrap: { ...extra.bootstrap, secretsKey: { accountId: SECRETS, ...secretsKey } },
        accounts: [
          ...(base.accounts ?? []),
          { id: SECRETS, name: 'security', memberRole: true, ...extra.accounts?.[0] }
        ]
      }
    })
    const keyArn =
      emulator
        .state(SECRETS)
        .accounts[0]?.stacks.find(stack => stack.name === 'iam-key-rotation-secrets-key')?.outputs[
        'KeyArn'
      ] ?? ''
    return { emu: emulator, keyArn }
  }

  function centralSecretOf(emu: Emulator) {
    return emu
      .state(SECRETS)
      .accounts[0]?.secrets.find(s => s.name === centralSecret && s.region === REGION)
  }

  it('a multi-Region key: each replica under the key’s replica in its region, checked first, readable there by the user', async () => {
    const { emu, keyArn } = await startCentral({
      parameters: { MultiRegion: 'true' },
      replicaRegions: ['eu-west-1']
    })
    expect(keyArn).toMatch(/:key\/mrk-[0-9a-f]{32}$/)
    const replicaKey = keyArn.replace(':us-east-1:', ':eu-west-1:')
    const [old] = keysOf(emu)
    const run = await enforce(emu, {
      ...CENTRAL,
      'kms-key-id': keyArn,
      'secret-replica-regions': 'eu-west-1'
    })
    expect(actionsOf(run), JSON.stringify(planUser(run)?.actions)).toEqual([
      ['ROTATE', 'EXPIRED_ACTIVE_KEY', 'done']
    ])
    expect(run.exitCode, run.stdout).toBe(0)
    const secret = centralSecretOf(emu)
    expect(secret?.kmsKeyId).toBe(keyArn)
    expect(secret?.replicas).toEqual([
      expect.objectContaining({ region: 'eu-west-1', kmsKeyId: replicaKey, status: 'InSync' })
    ])
    // The secrets role asked KMS for the replica, in its region, before the new key was made.
    const calls = emu.requests().map(r => `${r.service}:${r.operation}:${r.region}:${r.account}`)
    const describe = calls.indexOf(`kms:DescribeKey:eu-west-1:${SECRETS}`)
    expect(describe).toBeGreaterThanOrEqual(0)
    expect(describe).toBeLessThan(calls.findIndex(c => c.startsWith('iam:CreateAccessKey')))
    // The user reads its replica in eu-west-1: its read grant covers the key's replicas.
    const [, replacement] = keysOf(emu)
    const replicaArn = (secret?.arn ?? '').replace(':us-east-1:', ':eu-west-1:')
    const read = await readSecretAs(emu, { accessKeyId: old!.id }, replicaArn, 'eu-west-1')
    expect(JSON.parse(read ?? '{}')).toMatchObject({ AccessKeyId: replacement!.id })

    // The next run finds the secret as it made it: no replica repair.
    emu.advanceDays(1)
    const audit = await runAgainstEmulator(emu, {
      ...CENTRAL,
      mode: 'audit',
      'kms-key-id': keyArn,
      'secret-replica-regions': 'eu-west-1'
    })
    expect(planUser(audit)?.secret?.repairs ?? []).toEqual([])
  })

  it('replica-kms-key-ids: a single-region key, and the pair’s key for the replica', async () => {
    const { emu, keyArn } = await startCentral(
      {},
      {
        // The member roles may use the pair's key (ReplicaKmsKeyArns, from replica-kms-key-ids).
        bootstrap: { member: { ReplicaKmsKeyArns: EU_KEY } },
        accounts: [
          {
            id: SECRETS,
            kmsKeys: [
              {
                id: EU_KEY_ID,
                region: 'eu-west-1',
                policy: {
                  Version: '2012-10-17',
                  Statement: [
                    {
                      Effect: 'Allow',
                      Principal: { AWS: `arn:aws:iam::${SECRETS}:root` },
                      Action: 'kms:*',
                      Resource: '*'
                    },
                    {
                      Effect: 'Allow',
                      Principal: { AWS: '*' },
                      Action: 'kms:Decrypt',
                      Resource: '*',
                      Condition: {
                        StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' },
                        StringLike: { 'kms:ViaService': 'secretsmanager.*.amazonaws.com' }
                      }
                    }
                  ]
                }
              }
            ]
          }
        ]
      }
    )
    const [old] = keysOf(emu)
    const run = await enforce(emu, {
      ...CENTRAL,
      'kms-key-id': keyArn,
      'secret-replica-regions': 'eu-west-1',
      'replica-kms-key-ids': `eu-west-1=${EU_KEY}`
    })
    expect(actionsOf(run)).toEqual([['ROTATE', 'EXPIRED_ACTIVE_KEY', 'done']])
    expect(run.exitCode, run.stdout).toBe(0)
    const secret = centralSecretOf(emu)
    expect(secret?.kmsKeyId).toBe(keyArn)
    expect(secret?.replicas).toEqual([
      expect.objectContaining({ region: 'eu-west-1', kmsKeyId: EU_KEY, status: 'InSync' })
    ])
    // Nothing to derive: no DescribeKey.
    expect(
      emu
        .requests()
        .filter(
          r => r.operation === 'DescribeKey' && r.service === 'kms' && r.region === 'eu-west-1'
        )
    ).toEqual([])
    const [, replacement] = keysOf(emu)
    const replicaArn = (secret?.arn ?? '').replace(':us-east-1:', ':eu-west-1:')
    const read = await readSecretAs(emu, { accessKeyId: old!.id }, replicaArn, 'eu-west-1')
    expect(JSON.parse(read ?? '{}')).toMatchObject({ AccessKeyId: replacement!.id })
  })

  it('a single-region kms-key-id with replicas is rejected before any AWS call, naming the inputs and regions', async () => {
    const { emu, keyArn } = await startCentral({})
    const run = await runAgainstEmulator(emu, {
      ...CENTRAL,
      'kms-key-id': keyArn,
      'secret-replica-regions': 'eu-west-1, ap-south-1'
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout + run.stderr).toMatch(
      /kms-key-id.*KMS keys are regional.*secret-replica-regions in eu-west-1, ap-south-1.*replica-kms-key-ids/s
    )
    expect(emu.requestCounts().total).toBe(0)
  })

  it('a multi-Region key missing its replica in one region: a clear error, no key made, none lost', async () => {
    const { emu, keyArn } = await startCentral({
      parameters: { MultiRegion: 'true' },
      replicaRegions: ['eu-west-1']
    })
    const before = keysOf(emu).map(k => [k.id, k.status])
    const run = await runAgainstEmulator(emu, {
      ...CENTRAL,
      'kms-key-id': keyArn,
      'secret-replica-regions': 'eu-west-1, ap-south-1'
    })
    expect(run.exitCode).not.toBe(0)
    const missing = keyArn.replace(':us-east-1:', ':ap-south-1:')
    const output = run.stdout + run.stderr
    expect(output).toContain(
      `kms-key-id ${keyArn} is a multi-Region key, but its replica in ap-south-1, ${missing}, cannot be used: KMS has no such key in that region`
    )
    expect(output).toMatch(
      /replica-kms-key-ids.*secret-replica-regions.*Until then no key is rotated; deactivations and deletions go on/s
    )
    expect(run.plan?.warnings.join('\n')).toContain(`its replica in ap-south-1, ${missing}`)
    expect(planActions(run.plan!).filter(a => a.type === 'ROTATE')).not.toEqual([])
    for (const rotation of planActions(run.plan!).filter(a => a.type === 'ROTATE')) {
      expect(rotation.result).toBe('failed')
    }
    expect(output).not.toMatch(/replica in eu-west-1/)
    expect(keysOf(emu).map(k => [k.id, k.status])).toEqual(before)
    expect(centralSecretOf(emu)).toBeUndefined()
    const operations = emu.requests().map(r => `${r.service}:${r.operation}`)
    expect(operations).not.toContain('iam:CreateAccessKey')
    expect(operations).not.toContain('secretsmanager:CreateSecret')
  })
})
