import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type StateSnapshot, type World } from '../emulator/index.js'
import {
  ORG,
  planActions,
  runAgainstEmulator,
  type EmulatedRun
} from '../support/emulated-action.js'
import { readSecretAs } from '../support/emulator-clients.js'
import { rootCredentials } from '../emulator/callers.js'

const PROD = '222222222222'
const DEV = '333333333333'

function world(overrides: Partial<World> = {}): World {
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
          {
            name: 'ci-bot',
            tags: { owner: 'team@example.com' },
            keys: [{ status: 'Active', ageDays: 0, lastUsedDaysAgo: 0 }]
          },
          { name: 'no-keys', keys: [] }
        ]
      },
      {
        id: DEV,
        name: 'dev',
        email: 'dev@example.com',
        memberRole: true,
        users: [
          { name: 'app', keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 1 }] },
          { name: 'young', keys: [{ status: 'Active', ageDays: 3, lastUsedDaysAgo: 1 }] }
        ]
      }
    ],
    ...overrides
  }
}

/** The IAM and Secrets Manager part of the state: what the action may change. */
function awsState(snapshot: StateSnapshot) {
  return snapshot.accounts.map(account => ({
    id: account.id,
    users: account.users.map(user => ({
      name: user.name,
      tags: user.tags,
      attachedPolicies: user.attachedPolicies,
      keys: user.keys.map(key => ({ id: key.id, status: key.status, createDate: key.createDate }))
    })),
    secrets: account.secrets.map(secret => ({
      name: secret.name,
      policy: secret.resourcePolicy,
      versions: secret.versions.map(v => ({ id: v.id, stages: v.stages }))
    }))
  }))
}

function user(snapshot: StateSnapshot, accountId: string, userName: string) {
  const found = snapshot.accounts
    .find(a => a.id === accountId)
    ?.users.find(u => u.name === userName)
  if (!found) throw new Error(`no user ${accountId}/${userName}`)
  return found
}

/**
 * Everything the run left for people to read: the log, outputs, summary and reports. The
 * `::add-mask::` commands are the exception: the runner consumes them to mask the value and
 * never shows them in the log.
 */
function everythingWritten(run: EmulatedRun): string {
  const reportDir = run.outputs['report-dir'] ?? ''
  const reports = reportDir
    ? readdirSync(reportDir).map(file => readFileSync(join(reportDir, file), 'utf8'))
    : []
  const log = run.stdout
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
  return [
    log,
    run.stderr,
    run.summary,
    readFileSync(join(run.workDir, 'github-output'), 'utf8'),
    ...reports
  ].join('\n')
}

function expectNoSecretLeak(emulator: Emulator, runs: EmulatedRun[]): void {
  const secrets = emulator.issuedSecrets()
  expect(secrets.length).toBeGreaterThan(0)
  for (const run of runs) {
    const written = everythingWritten(run)
    for (const secret of secrets) expect(written).not.toContain(secret)
  }
}

describe('a key walks its whole timeline in enforce mode', () => {
  let emulator: Emulator
  const runs: EmulatedRun[] = []
  beforeAll(async () => {
    emulator = await startEmulator({ world: world() })
  })
  afterAll(() => emulator.close())

  let daysSoFar = 0
  const ciBotActions = (run: EmulatedRun) =>
    planActions(run.plan!).filter(a => a.account === PROD && a.user === 'ci-bot')

  it.each([
    [0, []],
    [83, [['WARN', 'KEY_PENDING_ROTATION', 'planned']]],
    [90, [['ROTATE', 'EXPIRED_ACTIVE_KEY', 'done']]],
    [97, [['WARN', 'KEY_PENDING_DEACTIVATION', 'planned']]],
    [100, [['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'done']]],
    [107, [['WARN', 'KEY_PENDING_DELETION', 'planned']]],
    [110, [['DELETE', 'RECOVER_GRACE_PERIOD_END', 'done']]]
  ] as const)('day %i', async (day, expected) => {
    if (day > 0) emulator.advanceDays(day - daysSoFar)
    daysSoFar = day
    const run = await runAgainstEmulator(emulator, { ...ORG, mode: 'enforce' })
    runs.push(run)
    expect(run.exitCode, run.stdout).toBe(0)
    expect(ciBotActions(run).map(a => [a.type, a.reason, a.result])).toEqual(expected)

    const ciBot = user(emulator.state(PROD), PROD, 'ci-bot')
    if (day >= 90) {
      const secret = emulator
        .state(PROD)
        .accounts.find(a => a.id === PROD)
        ?.secrets.find(s => s.name === `iam-key-rotation/${PROD}/ci-bot`)
      const current = secret?.versions.find(v => v.stages.includes('AWSCURRENT'))
      const stored = JSON.parse(current?.secretString ?? '{}') as Record<string, string>
      const newest = [...ciBot.keys].sort((a, b) => a.createDate.localeCompare(b.createDate)).at(-1)
      expect(stored.AccessKeyId).toBe(newest?.id)
      expect(stored.UserName).toBe('ci-bot')
      expect(ciBot.attachedPolicies).toEqual([
        `arn:aws:iam::${PROD}:policy/iam-key-rotation-read-own-secret`
      ])
      // Masked at once (the runner hides it in every later line) and written nowhere else.
      if (day === 90) expect(run.stdout).toContain(`::add-mask::${stored.SecretAccessKey}`)
      expect(JSON.parse(secret?.resourcePolicy ?? '{}')).toMatchObject({
        Statement: [{ Principal: { AWS: ciBot.arn } }, { Effect: 'Deny' }]
      })
      // The application reads its new key with the key it still has, as IAM evaluates it.
      if (day === 90) {
        const oldKey = ciBot.keys.find(key => key.id !== newest?.id)
        const read = await readSecretAs(
          emulator,
          { accessKeyId: oldKey?.id ?? '' },
          secret?.arn ?? ''
        )
        expect(JSON.parse(read ?? '{}')).toMatchObject({ AccessKeyId: newest?.id })
      }
    }
    if (day === 110) expect(ciBot.keys).toHaveLength(1)
  })
  it('never writes a secret access key anywhere', () => {
    expectNoSecretLeak(emulator, runs)
  })

  it('changes nothing when run twice on the same day', async () => {
    const before = awsState(emulator.state())
    const run = await runAgainstEmulator(emulator, { ...ORG, mode: 'enforce' })
    expect(run.exitCode).toBe(0)
    expect(planActions(run.plan!).filter(a => a.result === 'done')).toEqual([])
    expect(awsState(emulator.state())).toEqual(before)
  })
})

describe('audit mode', () => {
  it('plans every action and changes nothing in AWS', async () => {
    const emulator = await startEmulator({ world: world() })
    try {
      emulator.advanceDays(90)
      const before = awsState(emulator.state())
      const run = await runAgainstEmulator(emulator, ORG)
      expect(run.exitCode, run.stdout).toBe(0)
      expect(planActions(run.plan!)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            account: PROD,
            user: 'ci-bot',
            type: 'ROTATE',
            result: 'planned'
          }),
          expect.objectContaining({
            account: DEV,
            user: 'app',
            type: 'ROTATE',
            result: 'planned'
          })
        ])
      )
      expect(run.outputs.rotated).toBe('3')
      expect(awsState(emulator.state())).toEqual(before)
    } finally {
      await emulator.close()
    }
  })
})

describe('faults', () => {
  it("an IAM quota is that user's failure, named, at once: not throttling", async () => {
    const managed = Array.from({ length: 10 }, (_, i) => `arn:aws:iam::aws:policy/Example${i}`)
    const emulator = await startEmulator({
      world: world({
        accounts: [
          {
            id: DEV,
            name: 'dev',
            email: 'dev@example.com',
            memberRole: true,
            users: [
              {
                name: 'crowded',
                attachedPolicies: managed,
                keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 1 }]
              },
              { name: 'app', keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 1 }] }
            ]
          }
        ]
      })
    })
    try {
      const run = await runAgainstEmulator(emulator, { ...ORG, mode: 'enforce', accounts: DEV })
      const crowded = planActions(run.plan!).find(a => a.user === 'crowded' && a.type === 'ROTATE')
      const error = run.plan!.accounts[0]?.users.find(u => u.userName === 'crowded')?.actions[0]
        ?.error
      expect(crowded, run.stdout).toBeDefined()
      expect(error).toContain(
        'IAM quota reached (not retried): Cannot exceed quota for PoliciesPerUser: 10'
      )
      expect(planActions(run.plan!).find(a => a.user === 'app')).toMatchObject({ result: 'done' })
      // One attempt per user, no back-off: the quota is not treated as throttling.
      expect(emulator.requestCounts().byOperation['iam:AttachUserPolicy']).toBe(2)
      expect(run.plan!.totals.throttledRetries).toBe(0)
    } finally {
      await emulator.close()
    }
  })

  it('a failed secret write leaves the old key active and no orphan key', async () => {
    const emulator = await startEmulator({
      world: world({
        faults: {
          // Once, and not retryable: as when a KMS key policy refuses the write.
          failNth: [
            { account: PROD, operation: 'PutSecretValue', n: 1, code: 'AccessDeniedException' }
          ]
        }
      })
    })
    try {
      emulator.advanceDays(90)
      const before = user(emulator.state(), PROD, 'ci-bot').keys
      const run = await runAgainstEmulator(emulator, { ...ORG, mode: 'enforce' })
      const rotate = planActions(run.plan!).find(a => a.user === 'ci-bot' && a.type === 'ROTATE')
      expect(rotate?.result).toBe('failed')
      expect(run.exitCode).not.toBe(0)
      const after = user(emulator.state(), PROD, 'ci-bot').keys
      expect(after.map(k => [k.id, k.status])).toEqual(before.map(k => [k.id, k.status]))
      expectNoSecretLeak(emulator, [run])

      // The next run retries and succeeds.
      const retry = await runAgainstEmulator(emulator, { ...ORG, mode: 'enforce' })
      expect(planActions(retry.plan!).find(a => a.user === 'ci-bot')?.result).toBe('done')
    } finally {
      await emulator.close()
    }
  })

  it('an account whose role cannot be assumed fails alone, with an actionable message', async () => {
    const emulator = await startEmulator({ world: world({ faults: { assumeRoleDenied: [DEV] } }) })
    try {
      emulator.advanceDays(90)
      const run = await runAgainstEmulator(emulator, { ...ORG, mode: 'enforce' })
      expect(run.exitCode).not.toBe(0)
      expect(run.outputs['failed-accounts']).toBe(DEV)
      const dev = run.plan!.accounts.find(a => a.accountId === DEV)
      expect(dev?.status).toBe('failed')
      expect(dev?.error).toMatch(/StackSet/)
      expect(planActions(run.plan!).find(a => a.user === 'ci-bot')?.result).toBe('done')
      expect(run.stdout).toContain('::error::')
    } finally {
      await emulator.close()
    }
  })

  it('completes under 20% throttling on every account and counts the retries', async () => {
    const emulator = await startEmulator({
      world: world({ faults: { throttle: [{ rate: 0.2 }] } })
    })
    try {
      emulator.advanceDays(90)
      const run = await runAgainstEmulator(emulator, { ...ORG, mode: 'enforce' })
      expect(run.exitCode, run.stdout).toBe(0)
      expect(run.plan!.totals.failedAccounts).toBe(0)
      expect(run.plan!.totals.throttledRetries).toBeGreaterThan(0)
      expect(planActions(run.plan!).find(a => a.user === 'ci-bot')?.result).toBe('done')
    } finally {
      await emulator.close()
    }
  })

  it('falls back to per-user calls when the credential report is unavailable', async () => {
    const emulator = await startEmulator({
      world: world({ faults: { credentialReportUnavailable: [DEV] } })
    })
    try {
      emulator.advanceDays(90)
      const run = await runAgainstEmulator(emulator, ORG)
      expect(run.exitCode, run.stdout).toBe(0)
      expect(
        planActions(run.plan!)
          .filter(a => a.account === DEV)
          .map(a => a.user)
          .sort()
      ).toEqual(['app', 'young'])
    } finally {
      await emulator.close()
    }
  })
})

describe('paging', () => {
  it('scans an account with 250 users completely', async () => {
    const users = Array.from({ length: 250 }, (_, i) => ({
      name: `user-${String(i).padStart(3, '0')}`,
      keys: [{ status: 'Active' as const, ageDays: 95, lastUsedDaysAgo: 2 }]
    }))
    const emulator = await startEmulator({
      world: world({
        pageSizes: { iam: 7, organizations: 1 },
        faults: { emptyPageWithToken: true },
        accounts: [
          { id: '111111111111', name: 'management', email: 'm@example.com', memberRole: true },
          { id: PROD, name: 'prod', email: 'p@example.com', memberRole: true, users }
        ]
      })
    })
    try {
      const run = await runAgainstEmulator(emulator, ORG)
      expect(run.exitCode, run.stdout).toBe(0)
      const prod = run.plan!.accounts.find(a => a.accountId === PROD)
      expect(prod?.usersScanned).toBe(250)
      expect(
        new Set(
          planActions(run.plan!)
            .filter(a => a.type === 'ROTATE')
            .map(a => a.user)
        ).size
      ).toBe(250)
    } finally {
      await emulator.close()
    }
  })
})

describe('force-rotate', () => {
  it('rotates a young key on demand and warns about entries that match nobody', async () => {
    const emulator = await startEmulator({ world: world() })
    try {
      const run = await runAgainstEmulator(emulator, {
        ...ORG,
        mode: 'enforce',
        'force-rotate': `${DEV}:young\nghost-user`
      })
      expect(run.exitCode, run.stdout).toBe(0)
      expect(planActions(run.plan!).find(a => a.user === 'young')).toMatchObject({
        type: 'ROTATE',
        reason: 'FORCED_ROTATION',
        result: 'done'
      })
      expect(run.plan!.warnings).toEqual([
        'force-rotate entry "ghost-user" matches no IAM user in any account in scope.'
      ])
    } finally {
      await emulator.close()
    }
  })
})

describe('where secrets are stored', () => {
  it('central mode: the secret lives in the secrets account, under the customer key, readable by the user only', async () => {
    const SECRETS = '999999999999'
    const base = world()
    const emulator = await startEmulator({
      world: {
        ...base,
        // cfn/README.md step 3: the key in the secrets account; its ARN reaches the member roles.
        // Multi-Region, replicated to eu-west-1: KMS keys are regional, so the secret's replica
        // there is encrypted with the key's replica in eu-west-1.
        bootstrap: {
          secretsKey: {
            accountId: SECRETS,
            parameters: { MultiRegion: 'true' },
            replicaRegions: ['eu-west-1']
          }
        },
        accounts: [
          ...(base.accounts ?? []).map(account =>
            account.id === PROD
              ? {
                  ...account,
                  users: [
                    ...(account.users ?? []),
                    { name: 'neighbour', keys: [{ ageDays: 0, lastUsedDaysAgo: 0 }] }
                  ]
                }
              : account
          ),
          { id: SECRETS, name: 'security', email: 'sec@example.com', memberRole: true }
        ]
      }
    })
    const KEY = emulator
      .state(SECRETS)
      .accounts[0]?.stacks.find(stack => stack.name === 'iam-key-rotation-secrets-key')?.outputs[
      'KeyArn'
    ]
    expect(KEY).toMatch(new RegExp(`^arn:aws:kms:us-east-1:${SECRETS}:key/mrk-`))
    try {
      emulator.advanceDays(90)
      const run = await runAgainstEmulator(emulator, {
        ...ORG,
        mode: 'enforce',
        accounts: PROD,
        'secrets-location': 'central',
        'secrets-account-id': SECRETS,
        'kms-key-id': KEY ?? '',
        'secret-replica-regions': 'eu-west-1'
      })
      expect(run.exitCode, run.stdout).toBe(0)
      const rotate = run.plan!.accounts[0]?.users[0]?.actions[0]
      expect(rotate).toMatchObject({ type: 'ROTATE', result: 'done' })
      expect(rotate?.secretArn).toMatch(
        new RegExp(
          `^arn:aws:secretsmanager:us-east-1:${SECRETS}:secret:iam-key-rotation/${PROD}/ci-bot-`
        )
      )
      const state = emulator.state()
      expect(state.accounts.find(a => a.id === PROD)?.secrets).toEqual([])
      const secret = state.accounts
        .find(a => a.id === SECRETS)
        ?.secrets.find(s => s.name === `iam-key-rotation/${PROD}/ci-bot`)
      expect(secret?.kmsKeyId).toBe(KEY)
      expect(secret?.replicas.map(r => r.region)).toEqual(['eu-west-1'])
      const ciBot = user(state, PROD, 'ci-bot')
      expect(JSON.parse(secret?.resourcePolicy ?? '{}')).toMatchObject({
        Statement: [{ Effect: 'Allow', Principal: { AWS: ciBot.arn } }, { Effect: 'Deny' }]
      })
      // From its own account, through the secret's policy and the key's: the user, and nobody else.
      const [oldKey] = ciBot.keys
      const read = await readSecretAs(
        emulator,
        { accessKeyId: oldKey?.id ?? '' },
        secret?.arn ?? ''
      )
      expect(JSON.parse(read ?? '{}')).toMatchObject({ UserName: 'ci-bot' })
      const neighbour = user(state, PROD, 'neighbour').keys[0]?.id ?? ''
      const denied = await readSecretAs(
        emulator,
        { accessKeyId: neighbour },
        secret?.arn ?? ''
      ).catch((error: unknown) => error)
      expect(String(denied)).toMatch(/AccessDeniedException: .*user\/neighbour is not authorized/)
      const admin = await readSecretAs(emulator, rootCredentials(SECRETS), secret?.arn ?? '').catch(
        (error: unknown) => error
      )
      expect(String(admin)).toMatch(/with an explicit deny in a resource-based policy/)
    } finally {
      await emulator.close()
    }
  })
})
