import { ListAccountsCommand } from '@aws-sdk/client-organizations'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadWorldFile, parseWorld, startEmulator, type Emulator, type World } from './index.js'
import { AMBIENT, assumeRole, clients, rejection } from './support.js'

const minimal = { organizationId: 'o-abc123defg', managementAccountId: '111111111111' }

describe('world files', () => {
  it('names the exact path of a problem', () => {
    const problems: [unknown, string][] = [
      [{}, 'world.organizationId is required'],
      [{ ...minimal, acounts: [] }, 'world.acounts is not a known field'],
      [
        { ...minimal, accounts: [{ id: '2', status: 'CLOSED' }] },
        'world.accounts[0].status must be one of ACTIVE, SUSPENDED, PENDING_CLOSURE'
      ],
      [
        {
          ...minimal,
          accounts: [
            { id: '2', users: [{ name: 'u', keys: [{ ageDays: 1, lastUsedDaysAgo: 'never' }] }] }
          ]
        },
        'world.accounts[0].users[0].keys[0].lastUsedDaysAgo must be a number, or world.accounts[0].users[0].keys[0].lastUsedDaysAgo must be null'
      ],
      [{ ...minimal, accounts: [{ id: '2' }, { id: '2' }] }, 'world.accounts[1].id 2 is repeated'],
      [
        { ...minimal, faults: { latencyMs: { min: 1 } } },
        'world.faults.latencyMs must be a number, or world.faults.latencyMs.max is required'
      ]
    ]
    for (const [world, message] of problems) expect(() => parseWorld(world)).toThrow(message)
  })

  it('refuses worlds IAM itself would refuse', async () => {
    const threeKeys: World = {
      ...minimal,
      accounts: [
        {
          id: '222222222222',
          users: [{ name: 'u', keys: [{ ageDays: 1 }, { ageDays: 2 }, { ageDays: 3 }] }]
        }
      ]
    }
    await expect(startEmulator({ world: threeKeys })).rejects.toThrow('at most 2 access keys')
    const strangerInGroup: World = {
      ...minimal,
      accounts: [{ id: '222222222222', groups: [{ name: 'G', members: ['ghost'] }] }]
    }
    await expect(startEmulator({ world: strangerInGroup })).rejects.toThrow('no user named ghost')
  })

  it('adds the management and central accounts, and OUs only named by accounts', async () => {
    const emulator = await startEmulator({
      world: {
        ...minimal,
        central: { accountId: '999999999999' },
        accounts: [{ id: '222222222222', ou: 'ou-abcd-undeclared' }]
      }
    })
    try {
      const state = emulator.state()
      expect(state.accounts.map(a => [a.id, a.parentId])).toEqual([
        ['111111111111', 'r-abc1'],
        ['222222222222', 'ou-abcd-undeclared'],
        ['999999999999', 'r-abc1']
      ])
      expect(state.central.roleArn).toBe('arn:aws:iam::999999999999:role/iam-key-rotation-central')
      // The central account is not the management account: it lists through the listing role.
      const listing = clients(emulator, {
        credentials: await assumeRole(emulator, '111111111111', 'iam-key-rotation-list-accounts')
      })
      expect((await listing.organizations.send(new ListAccountsCommand({}))).Accounts).toHaveLength(
        3
      )
      expect(
        (
          await rejection(
            clients(emulator, { credentials: AMBIENT }).organizations.send(
              new ListAccountsCommand({})
            )
          )
        ).name
      ).toBe('AccessDeniedException')
    } finally {
      await emulator.close()
    }
  })
})

describe('examples/demo-world.json', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world: await loadWorldFile('examples/demo-world.json') })
  })
  afterAll(() => emulator.close())

  function user(accountId: string, name: string) {
    const found = emulator.state(accountId).accounts[0]?.users.find(u => u.name === name)
    if (!found) throw new Error(`no user ${name} in ${accountId}`)
    return found
  }

  it('is a realistic organization: management, prod, dev, sandbox, vendor, suspended', () => {
    const state = emulator.state()
    expect(state.organization.id).toMatch(/^o-[a-z0-9]{10}$/)
    expect(state.accounts.map(a => [a.name, a.status])).toEqual([
      ['management', 'ACTIVE'],
      ['prod', 'ACTIVE'],
      ['dev', 'ACTIVE'],
      ['sandbox', 'ACTIVE'],
      ['vendor-acme', 'ACTIVE'],
      ['legacy-closed', 'SUSPENDED']
    ])
  })

  it('has one reachable-looking account without the member role', async () => {
    expect((await rejection(assumeRole(emulator, '555555555555'))).name).toBe('AccessDenied')
    await expect(assumeRole(emulator, '222222222222')).resolves.toBeDefined()
  })

  it('covers every row of the key policy', () => {
    const keys = (accountId: string, name: string) =>
      user(accountId, name).keys.map(k => [
        k.status,
        k.ageDays,
        k.lastUsed === null ? 'never' : 'used'
      ])
    expect(keys('222222222222', 'deploy-bot')).toEqual([['Active', 12, 'used']]) // fresh
    expect(keys('222222222222', 'billing-export')).toEqual([['Active', 85, 'used']]) // warning window
    expect(keys('222222222222', 'legacy-etl')).toEqual([['Active', 95, 'used']]) // expired, used yesterday
    expect(keys('333333333333', 'ci-runner')).toEqual([['Active', 95, 'never']]) // never used, expired
    expect(keys('333333333333', 'test-harness')).toEqual([['Active', 86, 'never']]) // never used, soon
    expect(keys('333333333333', 'build-cache')).toEqual([
      ['Active', 30, 'used'],
      ['Inactive', 120, 'used']
    ])
    expect(keys('333333333333', 'analytics-ro')).toEqual([['Inactive', 12, 'used']])
    expect(keys('333333333333', 'readonly-auditor')).toEqual([])
    expect(keys('444444444444', 'shared-admin')).toEqual([
      ['Active', 120, 'used'],
      ['Active', 40, 'used']
    ]) // two active, one expired: blocked conflict
    expect(keys('444444444444', 'data-sync')).toEqual([
      ['Active', 86, 'used'],
      ['Active', 84, 'used']
    ]) // two active, both expiring soon
    expect(user('222222222222', 'breakglass').groups).toEqual(['IAMKeyRotationExemptionGroup'])
    expect(user('222222222222', 'legacy-etl').tags.owner).toBe('data-team@example.com')
  })
})
