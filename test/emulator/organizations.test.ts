import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListChildren
} from '@aws-sdk/client-organizations'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from './index.js'
import { assumeRole, clients, adminClients, rejection, testWorld } from './support.js'

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const page of pages) all.push(page)
  return all
}

const manyAccounts = Array.from({ length: 23 }, (_, i) => ({
  id: String(700000000000 + i),
  name: `member-${i}`,
  ou: i % 2 === 0 ? 'ou-test-dev' : 'ou-test-prod'
}))

describe('Organizations', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => emulator.loadWorld(testWorld()))

  it('describes the organization, from any of its accounts', async () => {
    const { Organization } = await clients(emulator).organizations.send(
      new DescribeOrganizationCommand({})
    )
    expect(Organization).toMatchObject({
      Id: 'o-test123456',
      MasterAccountId: '111111111111',
      MasterAccountEmail: 'mgmt@example.com',
      FeatureSet: 'ALL',
      Arn: 'arn:aws:organizations::111111111111:organization/o-test123456'
    })
    const dev = adminClients(emulator, '222222222222')
    const fromMember = await dev.organizations.send(new DescribeOrganizationCommand({}))
    expect(fromMember.Organization?.Id).toBe('o-test123456')
  })

  it('lists accounts with status, email and join date', async () => {
    const { Accounts, NextToken } = await clients(emulator).organizations.send(
      new ListAccountsCommand({})
    )
    expect(NextToken).toBeUndefined()
    expect(Accounts?.map(a => [a.Id, a.Name, a.Status])).toEqual([
      ['111111111111', 'management', 'ACTIVE'],
      ['222222222222', 'dev', 'ACTIVE'],
      ['333333333333', 'prod', 'ACTIVE'],
      ['444444444444', 'no-role', 'ACTIVE'],
      ['555555555555', 'closed', 'SUSPENDED']
    ])
    expect(Accounts?.[1]?.Email).toBe('dev@example.com')
    expect(Accounts?.[1]?.JoinedTimestamp).toBeInstanceOf(Date)
    expect(Accounts?.[1]?.Arn).toBe(
      'arn:aws:organizations::111111111111:account/o-test123456/222222222222'
    )
  })

  it('pages by min(MaxResults, world page size); the SDK paginator collects everything', async () => {
    emulator.loadWorld(testWorld({ accounts: manyAccounts, pageSizes: { organizations: 3 } }))
    const { organizations } = clients(emulator)
    const first = await organizations.send(new ListAccountsCommand({ MaxResults: 20 }))
    expect(first.Accounts).toHaveLength(3)
    expect(first.NextToken).toBeTruthy()
    const smaller = await organizations.send(new ListAccountsCommand({ MaxResults: 2 }))
    expect(smaller.Accounts).toHaveLength(2)
    const pages = await collect(paginateListAccounts({ client: organizations }, {}))
    const ids = pages.flatMap(page => page.Accounts ?? []).map(account => account.Id)
    expect(ids).toHaveLength(24) // 23 members + the management account
    expect(new Set(ids).size).toBe(24)
    expect(pages).toHaveLength(8)
  })

  it('can serve empty pages that still carry a NextToken, like real Organizations', async () => {
    emulator.loadWorld(
      testWorld({
        accounts: manyAccounts,
        pageSizes: { organizations: 5 },
        faults: { emptyPageWithToken: true }
      })
    )
    const { organizations } = clients(emulator)
    const first = await organizations.send(new ListAccountsCommand({}))
    expect(first.Accounts).toEqual([])
    expect(first.NextToken).toBeTruthy()
    const pages = await collect(paginateListAccounts({ client: organizations }, {}))
    expect(pages.flatMap(page => page.Accounts ?? [])).toHaveLength(24)
    expect(pages.filter(page => page.Accounts?.length === 0).length).toBe(5)
    const ou = await collect(
      paginateListAccountsForParent({ client: organizations }, { ParentId: 'ou-test-dev' })
    )
    expect(ou.flatMap(page => page.Accounts ?? [])).toHaveLength(12)
  })

  it('walks roots, OUs and children', async () => {
    const { organizations } = clients(emulator)
    const roots = await organizations.send(new ListRootsCommand({}))
    const rootId = roots.Roots?.[0]?.Id ?? ''
    expect(rootId).toBe('r-test')
    const topOus = await organizations.send(
      new ListOrganizationalUnitsForParentCommand({ ParentId: rootId })
    )
    expect(topOus.OrganizationalUnits?.map(ou => [ou.Id, ou.Name])).toEqual([
      ['ou-test-workloads', 'Workloads'],
      ['ou-test-other', 'Other']
    ])
    const nested = await collect(
      paginateListChildren(
        { client: organizations },
        { ParentId: 'ou-test-workloads', ChildType: 'ORGANIZATIONAL_UNIT' }
      )
    )
    expect(nested.flatMap(page => page.Children ?? []).map(child => child.Id)).toEqual([
      'ou-test-dev',
      'ou-test-prod'
    ])
    const rootAccounts = await organizations.send(
      new ListChildrenCommand({ ParentId: rootId, ChildType: 'ACCOUNT' })
    )
    expect(rootAccounts.Children).toEqual([{ Id: '111111111111', Type: 'ACCOUNT' }])
    const other = await organizations.send(
      new ListAccountsForParentCommand({ ParentId: 'ou-test-other' })
    )
    expect(other.Accounts?.map(a => a.Id)).toEqual(['444444444444', '555555555555'])
    const missing = await rejection(
      organizations.send(new ListAccountsForParentCommand({ ParentId: 'ou-nope-nope' }))
    )
    expect(missing.name).toBe('ParentNotFoundException')
  })

  it('describes accounts, and AccountNotFoundException for strangers', async () => {
    const { organizations } = clients(emulator)
    const { Account } = await organizations.send(
      new DescribeAccountCommand({ AccountId: '555555555555' })
    )
    expect(Account?.Status).toBe('SUSPENDED')
    const error = await rejection(
      organizations.send(new DescribeAccountCommand({ AccountId: '999999999999' }))
    )
    expect(error.name).toBe('AccountNotFoundException')
  })

  it('refuses listing to anything but the management account', async () => {
    emulator.loadWorld(testWorld({ central: { accountId: '333333333333' } }))
    const central = adminClients(emulator, '333333333333')
    const error = await rejection(central.organizations.send(new ListAccountsCommand({})))
    expect(error.name).toBe('AccessDeniedException')
    expect(error.$metadata?.httpStatusCode).toBe(403)
    // The central role reaches the organization through the listing role instead.
    const viaListingRole = clients(emulator, {
      credentials: await assumeRole(emulator, '111111111111', 'iam-key-rotation-list-accounts')
    })
    const accounts = await viaListingRole.organizations.send(new ListAccountsCommand({}))
    expect(accounts.Accounts).toHaveLength(5)
  })
})
