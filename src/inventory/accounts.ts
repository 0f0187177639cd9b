import { createHash } from 'node:crypto'
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ParentNotFoundException,
  type Account,
  type OrganizationsClient
} from '@aws-sdk/client-organizations'

export interface OrgAccount {
  readonly id: string
  readonly name: string
  readonly email: string
}

/** An account in scope that is not ACTIVE: listed in the plan as skipped, never signed in to. */
export interface SkippedAccount extends OrgAccount {
  /** Its Organizations state: SUSPENDED, PENDING_CLOSURE, PENDING_ACTIVATION or CLOSED. */
  readonly state: string
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
  /** ACTIVE accounts to process, in account id order. */
  readonly accounts: OrgAccount[]
  /** Accounts the scope selects that are not ACTIVE, in account id order. */
  readonly skipped: SkippedAccount[]
  /** Accounts of the organization, in any state, before any filter. */
  readonly organizationAccountCount: number
  /** Named in `accounts` but not an account of the organization. */
  readonly unknownAccounts: string[]
  /** Named in `exclude-accounts` but not an account of the organization. */
  readonly unknownExcludedAccounts: string[]
  /** Named in `organizational-units` but neither a root nor an OU of the organization. */
  readonly unknownOrganizationalUnits: string[]
  /** The management account would be in scope but include-management-account is false. */
  readonly managementAccountLeftOut: boolean
}

export class OrganizationMismatchError extends Error {
  override name = 'OrganizationMismatchError'
}

/** The scope inputs select nothing that exists: no account is processed. */
export class ScopeError extends Error {
  override name = 'ScopeError'
}

/**
 * Lists the organization's accounts and applies the scope inputs in a fixed order:
 * organizational units (recursive), `accounts`, `exclude-accounts`, the management account, then
 * `shard`; what remains is split into the ACTIVE accounts and those skipped for their state.
 * Ids in the inputs that the organization does not have are returned for the caller to report;
 * when every id of `organizational-units` or of `accounts` is unknown, nothing in scope can be
 * told and it throws ScopeError.
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

  const all = (await listAllAccounts(organizations)).map(account => ({
    ...toOrgAccount(account),
    state: stateOf(account)
  }))
  const known = new Set(all.map(account => account.id))
  const unknownAccounts = scope.accounts.filter(id => !known.has(id))
  if (scope.accounts.length > 0 && unknownAccounts.length === scope.accounts.length) {
    throw new ScopeError(
      `No id in accounts is an account of ${organizationId} (${unknownAccounts.join(', ')}): nothing is in scope, so no account was processed. ` +
        `List the organization's accounts with: aws organizations list-accounts`
    )
  }
  const units = await knownParents(
    organizations,
    organizationId,
    'organizational-units',
    scope.organizationalUnits,
    'nothing is in scope'
  )

  let inScope = all
  if (scope.organizationalUnits.length > 0) {
    const underOus = new Set<string>()
    for (const parentId of units.known) {
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

  inScope.sort((a, b) => a.id.localeCompare(b.id))
  return {
    accounts: inScope.filter(account => account.state === 'ACTIVE').map(toContact),
    skipped: inScope.filter(account => account.state !== 'ACTIVE'),
    organizationAccountCount: all.length,
    unknownAccounts,
    unknownExcludedAccounts: scope.excludeAccounts.filter(id => !known.has(id)),
    unknownOrganizationalUnits: units.unknown,
    managementAccountLeftOut
  }
}

/**
 * The ids of `input` that are a root or an OU of the organization, and those that are not: one
 * call each (Organizations answers ParentNotFoundException), so a typo is named before anything
 * is done. When ids were given and none is known, there is nothing to work on (`noneLeft`): it
 * throws ScopeError.
 */
export async function knownParents(
  organizations: OrganizationsClient,
  organizationId: string,
  input: string,
  parentIds: readonly string[],
  noneLeft: string
): Promise<{ known: string[]; unknown: string[] }> {
  const unknown: string[] = []
  for (const parentId of parentIds) {
    try {
      await organizations.send(
        new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, MaxResults: 1 })
      )
    } catch (error) {
      if (!(error instanceof ParentNotFoundException)) throw error
      unknown.push(parentId)
    }
  }
  if (parentIds.length > 0 && unknown.length === parentIds.length) {
    throw new ScopeError(
      `${unknownParentsMessage(input, unknown, organizationId)}: ${noneLeft}, so no account was processed.`
    )
  }
  return { known: parentIds.filter(id => !unknown.includes(id)), unknown }
}

/** "`input` names N ids that are no root or OU of the organization: …", with how to list them. */
export function unknownParentsMessage(
  input: string,
  unknown: readonly string[],
  organizationId: string
): string {
  const these = unknown.length === 1 ? 'is neither a root nor an OU' : 'are neither roots nor OUs'
  return (
    `${input}: ${unknown.join(', ')} ${these} of ${organizationId} ` +
    `(list them with: aws organizations list-roots; aws organizations list-organizational-units-for-parent --parent-id ID)`
  )
}

/**
 * The shard (1…count) an account belongs to: a hash of its id, so the assignment never depends
 * on which other accounts exist or on listing order.
 */
export function shardOf(accountId: string, count: number): number {
  const digest = createHash('sha256').update(accountId).digest()
  return (digest.readUInt32BE(0) % count) + 1
}

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

/** Every account, following NextToken to the end (Organizations may return empty pages with a token). */
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

function stateOf(account: Account): string {
  // `State` replaces the deprecated `Status`; older responses carry only `Status`.
  return account.State ?? account.Status ?? 'UNKNOWN'
}

function toOrgAccount(account: Account): OrgAccount {
  return { id: account.Id ?? '', name: account.Name ?? '', email: account.Email ?? '' }
}

function toContact({ id, name, email }: OrgAccount): OrgAccount {
  return { id, name, email }
}
