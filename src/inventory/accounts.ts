import { createHash } from 'node:crypto'
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  type Account,
  type OrganizationsClient
} from '@aws-sdk/client-organizations'

export interface OrgAccount {
  readonly id: string
  readonly name: string
  readonly email: string
}

export interface AccountScope {
  readonly accounts: readonly string[]
  readonly excludeAccounts: readonly string[]
  readonly organizationalUnits: readonly string[]
  readonly shard?: { readonly index: number; readonly count: number }
  /** The management account is left out unless includeManagementAccount. */
  readonly managementAccountId: string
  readonly includeManagementAccount: boolean
}

export interface Inventory {
  /** Accounts to process, in account id order. */
  readonly accounts: OrgAccount[]
  /** ACTIVE accounts of the organization before any filter (for reports and sharding checks). */
  readonly organizationAccountCount: number
  /** Named in `accounts` but not an ACTIVE member of the organization. */
  readonly unknownAccounts: string[]
  /** The management account would be in scope but include-management-account is false. */
  readonly managementAccountLeftOut: boolean
}

export class OrganizationMismatchError extends Error {
  override name = 'OrganizationMismatchError'
}

/**
 * Lists the organization's ACTIVE accounts and applies the scope inputs in a fixed order:
 * organizational units (recursive), `accounts`, `exclude-accounts`, then `shard`.
 */
export async function listAccountsInScope(
  organizations: OrganizationsClient,
  organizationId: string,
  scope: AccountScope
): Promise<Inventory> {
  const { Organization: organization } = await organizations.send(
    new DescribeOrganizationCommand({})
  )
  if (organization?.Id !== organizationId) {
    throw new OrganizationMismatchError(
      `The credentials reach organization "${organization?.Id ?? 'none'}", not "${organizationId}" ` +
        `(input organization-id). Check management-account-id and the roles.`
    )
  }

  const active = (await listAllAccounts(organizations)).filter(isActive).map(toOrgAccount)
  let inScope = active
  if (scope.organizationalUnits.length > 0) {
    const underOus = new Set<string>()
    for (const parentId of scope.organizationalUnits) {
      for (const id of await accountIdsUnder(organizations, parentId)) underOus.add(id)
    }
    inScope = inScope.filter(account => underOus.has(account.id))
  }
  if (scope.accounts.length > 0) {
    const wanted = new Set(scope.accounts)
    inScope = inScope.filter(account => wanted.has(account.id))
  }
  const excluded = new Set(scope.excludeAccounts)
  inScope = inScope.filter(account => !excluded.has(account.id))
  const managementAccountLeftOut =
    !scope.includeManagementAccount &&
    inScope.some(account => account.id === scope.managementAccountId)
  if (managementAccountLeftOut) {
    inScope = inScope.filter(account => account.id !== scope.managementAccountId)
  }
  const { shard } = scope
  if (shard) inScope = inScope.filter(account => shardOf(account.id, shard.count) === shard.index)

  const activeIds = new Set(active.map(account => account.id))
  return {
    accounts: inScope.sort((a, b) => a.id.localeCompare(b.id)),
    organizationAccountCount: active.length,
    unknownAccounts: scope.accounts.filter(id => !activeIds.has(id)),
    managementAccountLeftOut
  }
}

/**
 * The shard (1…count) an account belongs to: a hash of its id, so the assignment never depends
 * on which other accounts exist or on listing order.
 */
export function shardOf(accountId: string, count: number): number {
  const digest = createHash('sha256').update(accountId).digest()
  return (digest.readUInt32BE(0) % count) + 1
}

/** Every account, following NextToken to the end (Organizations may return empty pages with a token). */
/**
 * Every account's email address, for the merge job's account mails: the shard plans do not
 * carry them (an artifact is readable by anyone who can read the repository).
 */
export async function accountContacts(
  organizations: OrganizationsClient,
  organizationId: string
): Promise<OrgAccount[]> {
  const { Organization: organization } = await organizations.send(
    new DescribeOrganizationCommand({})
  )
  if (organization?.Id !== organizationId) {
    throw new OrganizationMismatchError(
      `The credentials reach organization "${organization?.Id ?? 'none'}", not "${organizationId}" (the shards' organization).`
    )
  }
  return (await listAllAccounts(organizations)).map(toOrgAccount)
}

async function listAllAccounts(organizations: OrganizationsClient): Promise<Account[]> {
  const accounts: Account[] = []
  let nextToken: string | undefined
  do {
    const page = await organizations.send(new ListAccountsCommand({ NextToken: nextToken }))
    accounts.push(...(page.Accounts ?? []))
    nextToken = page.NextToken
  } while (nextToken)
  return accounts
}

/** Account ids under a root or OU, recursively through child OUs. */
async function accountIdsUnder(
  organizations: OrganizationsClient,
  parentId: string
): Promise<string[]> {
  const ids: string[] = []
  const parents = [parentId]
  for (let parent = parents.pop(); parent !== undefined; parent = parents.pop()) {
    let nextToken: string | undefined
    do {
      const page = await organizations.send(
        new ListAccountsForParentCommand({ ParentId: parent, NextToken: nextToken })
      )
      for (const account of page.Accounts ?? []) if (account.Id) ids.push(account.Id)
      nextToken = page.NextToken
    } while (nextToken)
    do {
      const page = await organizations.send(
        new ListOrganizationalUnitsForParentCommand({ ParentId: parent, NextToken: nextToken })
      )
      for (const unit of page.OrganizationalUnits ?? []) if (unit.Id) parents.push(unit.Id)
      nextToken = page.NextToken
    } while (nextToken)
  }
  return ids
}

function isActive(account: Account): boolean {
  // `State` replaces the deprecated `Status`; older responses carry only `Status`.
  return (account.State ?? account.Status) === 'ACTIVE'
}

function toOrgAccount(account: Account): OrgAccount {
  return { id: account.Id ?? '', name: account.Name ?? '', email: account.Email ?? '' }
}
