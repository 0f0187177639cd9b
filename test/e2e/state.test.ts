import {
  CreateAccessKeyCommand,
  IAMClient,
  TagUserCommand,
  UpdateAccessKeyCommand
} from '@aws-sdk/client-iam'
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { afterEach, describe, expect, it } from 'vitest'
import { rootCredentials } from '../emulator/callers.js'
import { startEmulator, type Emulator, type World } from '../emulator/index.js'
import type { WorldUser } from '../emulator/world.js'
import type { Plan } from '../../src/plan/types.js'
import {
  ORG,
  planActions,
  runAgainstEmulator,
  type EmulatedRun
} from '../support/emulated-action.js'

// Issue 12: state the tool can trust. Each scenario the security review reproduced, run through
// dist/index.js against the emulator (which evaluates the templates' policies), with the v2
// outcome of shared/spec/key-policy.md.

const ACCOUNT = '222222222222'
/** Where the emulator's bootstrap deploys the central stack: the management account here. */
const CENTRAL_ACCOUNT = '111111111111'
const REGION = 'us-east-1'
const ENFORCE = { ...ORG, mode: 'enforce' }

function world(users: WorldUser[]): World {
  return {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: '111111111111',
    listAccountsRole: true,
    accounts: [
      { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
      { id: ACCOUNT, name: 'prod', email: 'prod@example.com', memberRole: true, users }
    ]
  }
}

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

async function start(users: Parameters<typeof world>[0]): Promise<Emulator> {
  emulator = await startEmulator({ world: world(users) })
  return emulator
}

/** What an administrator of the member account does by hand (its root: anything). */
function admin(emu: Emulator) {
  const config = {
    region: REGION,
    endpoint: emu.url,
    credentials: rootCredentials(ACCOUNT),
    disableClockSkewCorrection: true
  }
  return { iam: new IAMClient(config), secrets: new SecretsManagerClient(config) }
}

function keysOf(emu: Emulator, userName: string) {
  const found = emu
    .state(ACCOUNT)
    .accounts.find(a => a.id === ACCOUNT)
    ?.users.find(u => u.name === userName)
  if (!found) throw new Error(`no user ${userName}`)
  return [...found.keys].sort((a, b) => a.createDate.localeCompare(b.createDate))
}

function tagsOf(emu: Emulator, userName: string): Record<string, string> {
  return (
    emu
      .state(ACCOUNT)
      .accounts.find(a => a.id === ACCOUNT)
      ?.users.find(u => u.name === userName)?.tags ?? {}
  )
}

/** A call made with the key, as the application does every day (updates its last use). */
async function use(emu: Emulator, accessKeyId: string): Promise<void> {
  const sts = new STSClient({
    region: REGION,
    endpoint: emu.url,
    credentials: { accessKeyId, secretAccessKey: 'emulator-does-not-check-signatures' },
    disableClockSkewCorrection: true
  })
  await sts.send(new GetCallerIdentityCommand({}))
  sts.destroy()
}

async function setStatus(
  emu: Emulator,
  userName: string,
  id: string,
  status: 'Active' | 'Inactive'
) {
  await admin(emu).iam.send(
    new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: id, Status: status })
  )
}

function actionsOf(run: EmulatedRun, userName: string) {
  return planActions(run.plan as Plan)
    .filter(a => a.user === userName)
    .map(a => [a.type, a.reason, a.result, a.key])
}

function findingsOf(run: EmulatedRun, userName: string) {
  return (run.plan as Plan).accounts
    .flatMap(a => a.users)
    .filter(u => u.userName === userName)
    .flatMap(u => u.stateFindings ?? [])
}

async function enforce(emu: Emulator, inputs: Record<string, string> = {}) {
  const run = await runAgainstEmulator(emu, { ...ENFORCE, ...inputs })
  expect(run.plan, run.stdout + run.stderr).toBeDefined()
  return run
}

describe('a scream test keeps its recovery window', () => {
  it('deactivated, reactivated, used, and deactivated again months later: not deleted at once', async () => {
    const emu = await start([{ name: 'app', keys: [{ ageDays: 20, lastUsedDaysAgo: 0 }] }])
    const [key] = keysOf(emu, 'app')
    const id = key!.id
    await setStatus(emu, 'app', id, 'Inactive')
    expect(actionsOf(await enforce(emu), 'app')).toEqual([])

    emu.advanceDays(2)
    await setStatus(emu, 'app', id, 'Active')
    await use(emu, id)
    await enforce(emu)
    expect(tagsOf(emu, 'app')[`iam-key-rotation:${id}`] ?? '').not.toContain('firstSeenInactive')

    emu.advanceDays(60)
    await use(emu, id)
    await setStatus(emu, 'app', id, 'Inactive')
    const scream = await enforce(emu)
    expect(actionsOf(scream, 'app')).toEqual([])
    expect(keysOf(emu, 'app')).toHaveLength(1)

    emu.advanceDays(10)
    expect(actionsOf(await enforce(emu), 'app')).toEqual([
      ['DELETE', 'RECOVER_GRACE_PERIOD_END', 'done', id]
    ])
  })
})

describe('forged state steers nothing', () => {
  const twoKeys = [
    {
      name: 'shared',
      keys: [
        { ageDays: 100, lastUsedDaysAgo: 0 },
        { ageDays: 50, lastUsedDaysAgo: 0 }
      ]
    }
  ]

  it('one TagUser call ("A rotated long ago, replacement B") does not deactivate A', async () => {
    const emu = await start(twoKeys)
    const [a, b] = keysOf(emu, 'shared')
    await admin(emu).iam.send(
      new TagUserCommand({
        UserName: 'shared',
        Tags: [
          {
            Key: `iam-key-rotation:${a!.id}`,
            Value: `created=${seconds(a!.createDate)} rotated=${seconds(b!.createDate)} replacement=${b!.id}`
          }
        ]
      })
    )
    for (const days of [0, 11]) {
      emu.advanceDays(days)
      const run = await enforce(emu)
      expect(actionsOf(run, 'shared')).toEqual([
        ['BLOCKED', 'ROTATION_BLOCKED_BY_CONFLICT', 'planned', a!.id]
      ])
      expect(findingsOf(run, 'shared')).toEqual([
        expect.objectContaining({
          accessKeyId: a!.id,
          reason: 'STATE_TAMPERED',
          problem: expect.stringMatching(
            /unsigned, but names .* created after signed state began/
          ) as unknown as string
        })
      ])
      expect(run.summary).toContain('State that failed verification (STATE_TAMPERED)')
      expect(run.plan!.warnings).toContainEqual(
        expect.stringContaining(`user shared, key ${a!.id}: its recorded state was ignored`)
      )
      expect(run.stdout).toContain(
        `::warning::Account ${ACCOUNT}, user shared, key ${a!.id}: its recorded state was ignored (STATE_TAMPERED): it is unsigned, but names ${b!.id}, created after signed state began`
      )
      expect(run.summary).toContain(a!.id)
    }
    expect(keysOf(emu, 'shared').map(k => k.status)).toEqual(['Active', 'Active'])
  })

  it('a signature copied from another record does not verify', async () => {
    const emu = await start([
      ...twoKeys,
      { name: 'donor', keys: [{ ageDays: 5, lastUsedDaysAgo: 0, status: 'Inactive' }] }
    ])
    await enforce(emu) // the tool signs a first-seen record for donor's inactive key
    const donorKey = keysOf(emu, 'donor')[0]!.id
    const signature = tagsOf(emu, 'donor')[`iam-key-rotation:sig:${donorKey}`]
    expect(signature).toMatch(/^v2 /)
    const [a, b] = keysOf(emu, 'shared')
    await admin(emu).iam.send(
      new TagUserCommand({
        UserName: 'shared',
        Tags: [
          {
            Key: `iam-key-rotation:${a!.id}`,
            Value: `created=${seconds(a!.createDate)} rotated=${seconds(b!.createDate)} replacement=${b!.id}`
          },
          { Key: `iam-key-rotation:sig:${a!.id}`, Value: signature! }
        ]
      })
    )
    emu.advanceDays(11)
    const run = await enforce(emu)
    expect(actionsOf(run, 'shared').map(a => a[0])).toEqual(['BLOCKED'])
    expect(findingsOf(run, 'shared')[0]?.problem).toMatch(/signature does not verify/)
  })

  it('a pre-created secret naming the newer key is not the tool’s: no rotation is recognised', async () => {
    const emu = await start(twoKeys)
    const [a, b] = keysOf(emu, 'shared')
    await admin(emu).secrets.send(
      new CreateSecretCommand({
        Name: `iam-key-rotation/${ACCOUNT}/shared`,
        SecretString: '{}',
        Tags: [
          { Key: 'iam-key-rotation:access-key-id', Value: b!.id },
          { Key: 'iam-key-rotation:marker', Value: 'v2 forged c2lnbmF0dXJl' }
        ]
      })
    )
    emu.advanceDays(11)
    const run = await enforce(emu)
    expect(actionsOf(run, 'shared')).toEqual([
      ['BLOCKED', 'ROTATION_BLOCKED_BY_CONFLICT', 'planned', a!.id]
    ])
    expect(run.stdout).toMatch(/was not created by this tool: its marker failed verification/)
    expect(keysOf(emu, 'shared').map(k => k.status)).toEqual(['Active', 'Active'])
  })

  it('a future rotation date does not silence two expired keys', async () => {
    const emu = await start([
      {
        name: 'quiet',
        keys: [
          { ageDays: 200, lastUsedDaysAgo: 0 },
          { ageDays: 150, lastUsedDaysAgo: 0 }
        ]
      }
    ])
    const [a, b] = keysOf(emu, 'quiet')
    const future = new Date(emu.now().getTime() + 365 * 86_400_000).toISOString()
    await admin(emu).iam.send(
      new TagUserCommand({
        UserName: 'quiet',
        Tags: [
          {
            Key: `iam-key-rotation:${a!.id}`,
            Value: `created=${seconds(a!.createDate)} rotated=${seconds(future)} replacement=${b!.id}`
          }
        ]
      })
    )
    const run = await enforce(emu)
    expect(actionsOf(run, 'quiet')).toEqual([
      ['BLOCKED', 'ROTATION_BLOCKED_BY_CONFLICT', 'planned', a!.id],
      ['BLOCKED', 'ROTATION_BLOCKED_BY_CONFLICT', 'planned', b!.id]
    ])
    expect(findingsOf(run, 'quiet')[0]?.problem).toMatch(/in the future/)
  })
})

describe('a person who reactivates is not fought', () => {
  it('a new grace period, one more deactivation, then BLOCKED by the owner', async () => {
    const emu = await start([{ name: 'ci-bot', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const [old] = keysOf(emu, 'ci-bot')
    const id = old!.id
    expect(actionsOf(await enforce(emu), 'ci-bot')[0]?.[0]).toBe('ROTATE')
    emu.advanceDays(10)
    expect(actionsOf(await enforce(emu), 'ci-bot')).toEqual([
      ['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'done', id]
    ])

    emu.advanceDays(1)
    await setStatus(emu, 'ci-bot', id, 'Active')
    expect(actionsOf(await enforce(emu), 'ci-bot')).toEqual([
      ['WARN', 'KEY_REACTIVATED', 'planned', id]
    ])
    emu.advanceDays(5)
    expect(actionsOf(await enforce(emu), 'ci-bot')).toEqual([
      ['WARN', 'KEY_REACTIVATED', 'planned', id]
    ])
    emu.advanceDays(5)
    expect(actionsOf(await enforce(emu), 'ci-bot')).toEqual([
      ['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'done', id]
    ])

    emu.advanceDays(1)
    await setStatus(emu, 'ci-bot', id, 'Active')
    for (const days of [0, 20]) {
      emu.advanceDays(days)
      const run = await enforce(emu, { 'open-issues': 'false' })
      expect(actionsOf(run, 'ci-bot')).toEqual([
        ['BLOCKED', 'ROTATION_BLOCKED_BY_OWNER', 'planned', id]
      ])
    }
    expect(keysOf(emu, 'ci-bot').map(k => k.status)).toEqual(['Active', 'Active'])
  })
})

describe('a fresh deactivation keeps its grace in a conflict', () => {
  it('an inactive key used yesterday is not deleted to free a slot', async () => {
    const emu = await start([
      {
        name: 'app',
        keys: [
          { ageDays: 95, lastUsedDaysAgo: 0 },
          { ageDays: 30, lastUsedDaysAgo: 1, status: 'Inactive' }
        ]
      }
    ])
    const [a, i] = keysOf(emu, 'app')
    const run = await enforce(emu)
    expect(actionsOf(run, 'app')).toEqual([
      ['WARN', 'KEY_PENDING_DELETION_CONFLICT', 'planned', i!.id],
      ['WARN', 'ROTATION_WAITS_FOR_RECOVERY', 'planned', a!.id]
    ])
    expect(keysOf(emu, 'app')).toHaveLength(2)
    emu.advanceDays(9)
    expect(actionsOf(await enforce(emu), 'app').map(x => x[0])).toEqual(['DELETE', 'ROTATE'])
  })
})

describe("AWS's clock", () => {
  it('IAM_KEY_ROTATION_NOW from an earlier step has no effect; a skewed runner clock is reported', async () => {
    const emu = await start([
      {
        name: 'app',
        keys: [
          { ageDays: 3, lastUsedDaysAgo: null },
          { ageDays: 2, lastUsedDaysAgo: 1, status: 'Inactive' }
        ]
      }
    ])
    emu.advanceDays(1)
    const fiveYears = new Date(emu.now().getTime() + 5 * 365 * 86_400_000).toISOString()
    const run = await runAgainstEmulator(emu, ENFORCE, { env: { IAM_KEY_ROTATION_NOW: fiveYears } })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(actionsOf(run, 'app')).toEqual([])
    expect(keysOf(emu, 'app')).toHaveLength(2)
    expect(Math.abs(Date.parse(run.plan!.generatedAt) - emu.now().getTime())).toBeLessThan(60_000)
    expect(run.plan!.warnings).toContainEqual(
      expect.stringMatching(/runner's clock is \d+ minutes behind AWS's/)
    )
  })
})

describe('a second run within the report’s 4 hours', () => {
  it('plans nothing new after a rotation', async () => {
    const emu = await start([{ name: 'ci-bot', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    expect(actionsOf(await enforce(emu), 'ci-bot').map(a => [a[0], a[2]])).toEqual([
      ['ROTATE', 'done']
    ])
    emu.setNow(new Date(emu.now().getTime() + 3_600_000))
    const again = await enforce(emu)
    expect(actionsOf(again, 'ci-bot')).toEqual([])
    expect(keysOf(emu, 'ci-bot')).toHaveLength(2)
  })
})

describe("one user's failure is that user's", () => {
  it('a failing ListAccessKeys for one user leaves the account’s other users rotated', async () => {
    const emu = await start([
      { name: 'bob', keys: [{ ageDays: 95, lastUsedDaysAgo: 0 }] },
      { name: 'carol', keys: [{ ageDays: 95, lastUsedDaysAgo: 0 }] }
    ])
    emu.setFaults({
      failNth: [
        {
          operation: 'ListAccessKeys',
          params: { UserName: 'bob' },
          n: 1,
          times: 1000,
          code: 'NoSuchEntity',
          message: 'The user with name bob cannot be found.'
        }
      ]
    })
    const run = await enforce(emu)
    expect(run.exitCode).not.toBe(0)
    const account = run.plan!.accounts.find(a => a.accountId === ACCOUNT)
    expect(account?.status).toBe('ok')
    expect(account?.users.find(u => u.userName === 'bob')?.error).toMatch(/cannot be found/)
    expect(actionsOf(run, 'carol').map(a => [a[0], a[2]])).toEqual([['ROTATE', 'done']])
    expect(run.summary).toContain('Users that could not be scanned')
  })
})

describe('records of earlier versions', () => {
  it('an unsigned rotation record that IAM and the old secret confirm is migrated and signed', async () => {
    const emu = await start([{ name: 'legacy', keys: [{ ageDays: 900, lastUsedDaysAgo: 0 }] }])
    const [a] = keysOf(emu, 'legacy')
    const { iam, secrets } = admin(emu)
    // The emulator deploys the central stack (and so the state key) when its accounts were set
    // up, 730 days before the world's load. What release 0.1.0 left five days before that: a new
    // key, its secret (tagged with the key id), an unsigned tag.
    const stateKey = emu
      .state(CENTRAL_ACCOUNT)
      .accounts.find(account => account.id === CENTRAL_ACCOUNT)
      ?.kmsKeys.find(key => key.aliases.includes('alias/iam-key-rotation-state'))
    const keyCreated = Date.parse(stateKey?.creationDate ?? '')
    expect(keyCreated).not.toBeNaN()
    emu.setNow(new Date(keyCreated - 5 * 86_400_000))
    const created = await iam.send(new CreateAccessKeyCommand({ UserName: 'legacy' }))
    const b = created.AccessKey!
    await secrets.send(
      new CreateSecretCommand({
        Name: `iam-key-rotation/${ACCOUNT}/legacy`,
        SecretString: '{}',
        Tags: [{ Key: 'iam-key-rotation:access-key-id', Value: b.AccessKeyId! }]
      })
    )
    await iam.send(
      new TagUserCommand({
        UserName: 'legacy',
        Tags: [
          {
            Key: `iam-key-rotation:${a!.id}`,
            Value: `created=${seconds(a!.createDate)} rotated=${seconds(b.CreateDate!.toISOString())} replacement=${b.AccessKeyId!}`
          }
        ]
      })
    )
    emu.setNow(new Date(keyCreated + 86_400_000)) // the day after the upgrade
    const audit = await runAgainstEmulator(emu, ORG)
    expect(findingsOf(audit, 'legacy')).toEqual([])
    expect(tagsOf(emu, 'legacy')[`iam-key-rotation:sig:${a!.id}`]).toBeUndefined()

    const migrated = await enforce(emu)
    expect(findingsOf(migrated, 'legacy')).toEqual([])
    expect(tagsOf(emu, 'legacy')[`iam-key-rotation:sig:${a!.id}`]).toMatch(/^v2 /)
    emu.advanceDays(4)
    expect(actionsOf(await enforce(emu), 'legacy')).toEqual([
      ['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'done', a!.id]
    ])
  })
})

function seconds(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

describe('a rotation cut short after any of its writes is recovered by the next run', () => {
  // The writes of a first rotation, in order (execution rule 3). The Nth TagUser: 1 the
  // intent, 2 the recorded rotation.
  const writes = [
    { write: 'the intent (TagUser)', operation: 'TagUser', n: 1 },
    { write: 'CreateAccessKey', operation: 'CreateAccessKey' },
    { write: 'the empty secret (CreateSecret)', operation: 'CreateSecret' },
    { write: 'PutResourcePolicy', operation: 'PutResourcePolicy' },
    { write: 'the value (PutSecretValue)', operation: 'PutSecretValue' },
    { write: 'AttachUserPolicy', operation: 'AttachUserPolicy' },
    { write: 'the recorded rotation (TagUser)', operation: 'TagUser', n: 2 }
  ]

  it.each(writes)('killed after $write', async ({ write: _write, ...rule }) => {
    const emu = await start([{ name: 'ci-bot', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const [old] = keysOf(emu, 'ci-bot')
    const crashed = emu.crashAfter({ account: ACCOUNT, ...rule })
    const killed = await runAgainstEmulator(emu, ENFORCE, { killWhen: crashed })
    expect(killed.killed, killed.stdout).toBe(true)

    emu.setNow(new Date(emu.now().getTime() + 3_600_000))
    const next = await enforce(emu)
    expect(next.exitCode, next.stdout).toBe(0)
    const actions = actionsOf(next, 'ci-bot').map(a => [a[0], a[1], a[2]])
    if (rule.operation === 'TagUser' && rule.n === 1) {
      expect(actions).toEqual([['ROTATE', 'EXPIRED_ACTIVE_KEY', 'done']])
    } else if (['CreateAccessKey', 'CreateSecret', 'PutResourcePolicy'].includes(rule.operation)) {
      // The key exists and nobody has it (the secret holds no value yet): it is an orphan.
      expect(actions).toEqual([
        ['DELETE', 'ORPHAN_KEY_REMOVED', 'done'],
        ['ROTATE', 'EXPIRED_ACTIVE_KEY', 'done']
      ])
    } else {
      expect(actions).toEqual([])
    }

    // Whatever the crash point: two keys, the old one untouched and active, the secret's
    // current version names the newest key, the rotation is recorded and signed, the secret is
    // the user's alone and the user may read it.
    const keys = keysOf(emu, 'ci-bot')
    expect(keys.map(k => k.status)).toEqual(['Active', 'Active'])
    expect(keys[0]!.id).toBe(old!.id)
    const newest = keys[1]!
    const account = emu.state(ACCOUNT).accounts.find(a => a.id === ACCOUNT)!
    const secret = account.secrets.find(s => s.name === `iam-key-rotation/${ACCOUNT}/ci-bot`)!
    expect(secret.versions.find(v => v.stages.includes('AWSCURRENT'))?.id).toBe(
      `iam-key-rotation-${newest.id}`
    )
    expect(secret.resourcePolicy).toContain('NobodyElseReads')
    const user = account.users.find(u => u.name === 'ci-bot')!
    expect(user.attachedPolicies).toEqual([
      `arn:aws:iam::${ACCOUNT}:policy/iam-key-rotation-read-own-secret`
    ])
    const record = user.tags[`iam-key-rotation:${old!.id}`] ?? ''
    expect(record).toContain(`replacement=${newest.id}`)
    expect(record).toContain(`rotated=${seconds(newest.createDate)}`)
    expect(record).not.toContain('rotationStarted')
    expect(user.tags[`iam-key-rotation:sig:${old!.id}`]).toMatch(/^v2 /)

    // And the timeline goes on: the old key is deactivated when its grace ends, not before.
    emu.advanceDays(10)
    expect(actionsOf(await enforce(emu), 'ci-bot')).toEqual([
      ['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'done', old!.id]
    ])
  })

  it('a second rotation cut short after its secret write: lru never takes the stored key', async () => {
    const emu = await start([{ name: 'ci-bot', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const lru = { 'conflict-resolution': 'lru' }
    await enforce(emu, lru) // day 90: rotated
    emu.advanceDays(10)
    await enforce(emu, lru) // day 100: old key deactivated
    emu.advanceDays(10)
    await enforce(emu, lru) // day 110: old key deleted
    const [second] = keysOf(emu, 'ci-bot')
    await use(emu, second!.id)
    emu.advanceDays(80)
    const crashed = emu.crashAfter({ account: ACCOUNT, operation: 'PutSecretValue' })
    expect(
      (await runAgainstEmulator(emu, { ...ENFORCE, ...lru }, { killWhen: crashed })).killed
    ).toBe(true)
    const stored = keysOf(emu, 'ci-bot')[1]!
    for (const days of [0, 10, 10]) {
      emu.advanceDays(days)
      const run = await enforce(emu, lru)
      expect(
        actionsOf(run, 'ci-bot').filter(
          a => a[3] === stored.id && (a[0] === 'DEACTIVATE' || a[0] === 'DELETE')
        )
      ).toEqual([])
    }
    expect(keysOf(emu, 'ci-bot').map(k => k.id)).toContain(stored.id)
  })

  it('a second rotation cut short after the policy it puts back before the value: the orphan goes, the rotation runs again', async () => {
    const emu = await start([{ name: 'ci-bot', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    await enforce(emu) // day 90: rotated
    emu.advanceDays(10)
    await enforce(emu) // day 100: old key deactivated
    emu.advanceDays(10)
    await enforce(emu) // day 110: old key deleted
    const [second] = keysOf(emu, 'ci-bot')
    await use(emu, second!.id)
    emu.advanceDays(80)
    // The secret exists and is as the tool made it: this run's only PutResourcePolicy is the one
    // right before the value.
    const crashed = emu.crashAfter({ account: ACCOUNT, operation: 'PutResourcePolicy' })
    expect((await runAgainstEmulator(emu, ENFORCE, { killWhen: crashed })).killed).toBe(true)
    emu.setNow(new Date(emu.now().getTime() + 3_600_000))
    const next = await enforce(emu)
    expect(actionsOf(next, 'ci-bot').map(a => [a[0], a[1], a[2]])).toEqual([
      ['DELETE', 'ORPHAN_KEY_REMOVED', 'done'],
      ['ROTATE', 'EXPIRED_ACTIVE_KEY', 'done']
    ])
    const keys = keysOf(emu, 'ci-bot')
    expect(keys.map(k => k.id)).toHaveLength(2)
    expect(keys[0]!.id).toBe(second!.id)
    const account = emu.state(ACCOUNT).accounts.find(a => a.id === ACCOUNT)!
    const secret = account.secrets.find(s => s.name === `iam-key-rotation/${ACCOUNT}/ci-bot`)!
    expect(secret.versions.find(v => v.stages.includes('AWSCURRENT'))?.id).toBe(
      `iam-key-rotation-${keys[1]!.id}`
    )
  })
})

describe('a deactivation or deletion cut short is recovered by the next run', () => {
  async function atDeactivation(emu: Emulator) {
    expect(actionsOf(await enforce(emu), 'ci-bot')[0]?.[0]).toBe('ROTATE')
    emu.advanceDays(10)
  }

  it('killed after the deactivation was recorded, before the key was deactivated: it waits, never less', async () => {
    const emu = await start([{ name: 'ci-bot', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const [old] = keysOf(emu, 'ci-bot')
    await atDeactivation(emu)
    // TagUser 1 and 2 were the rotation's; the third records the deactivation.
    const crashed = emu.crashAfter({ account: ACCOUNT, operation: 'TagUser' })
    expect((await runAgainstEmulator(emu, ENFORCE, { killWhen: crashed })).killed).toBe(true)
    expect(keysOf(emu, 'ci-bot')[0]!.status).toBe('Active')
    const next = await enforce(emu)
    expect(actionsOf(next, 'ci-bot')).toEqual([['WARN', 'KEY_REACTIVATED', 'planned', old!.id]])
    expect(keysOf(emu, 'ci-bot').map(k => k.status)).toEqual(['Active', 'Active'])
  })

  it('killed after the key was deactivated, before anything else: its recovery clock runs', async () => {
    const emu = await start([{ name: 'ci-bot', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const [old] = keysOf(emu, 'ci-bot')
    await atDeactivation(emu)
    const crashed = emu.crashAfter({ account: ACCOUNT, operation: 'UpdateAccessKey' })
    expect((await runAgainstEmulator(emu, ENFORCE, { killWhen: crashed })).killed).toBe(true)
    expect(actionsOf(await enforce(emu), 'ci-bot')).toEqual([])
    emu.advanceDays(10)
    expect(actionsOf(await enforce(emu), 'ci-bot')).toEqual([
      ['DELETE', 'RECOVER_GRACE_PERIOD_END', 'done', old!.id]
    ])
  })

  it('killed after DeleteAccessKey, before its record was removed: the record of a missing key steers nothing', async () => {
    const emu = await start([{ name: 'ci-bot', keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }] }])
    const [old] = keysOf(emu, 'ci-bot')
    await atDeactivation(emu)
    await enforce(emu)
    emu.advanceDays(10)
    const crashed = emu.crashAfter({ account: ACCOUNT, operation: 'DeleteAccessKey' })
    expect((await runAgainstEmulator(emu, ENFORCE, { killWhen: crashed })).killed).toBe(true)
    expect(keysOf(emu, 'ci-bot').map(k => k.id)).not.toContain(old!.id)
    // Within the report's 4 hours it still lists the deleted key, which the live re-read before
    // acting catches (STATE_CHANGED); once regenerated, nothing is left to do.
    const next = await enforce(emu)
    expect(next.exitCode).toBe(0)
    expect(actionsOf(next, 'ci-bot').map(a => a[2])).not.toContain('done')
    expect(findingsOf(next, 'ci-bot')).toEqual([])
    emu.setNow(new Date(emu.now().getTime() + 5 * 3_600_000))
    const later = await enforce(emu)
    expect(actionsOf(later, 'ci-bot')).toEqual([])
    expect(findingsOf(later, 'ci-bot')).toEqual([])
  })
})
