import { daysBefore } from './clock.js'
import { policyProblems } from './authz/evaluate.js'
import { bootstrap } from './bootstrap.js'
import {
  addAccessKey,
  addUser,
  iamArn,
  normalizePath,
  putRole,
  trustFromPrincipals
} from './iam-model.js'
import { IdFactory } from './random.js'
import { seedStackSet } from './services/cloudformation.js'
import { defaultKeyPolicy } from './cfn-engine.js'
import { replicateKmsKey } from './services/kms.js'
import { addReplica, createSecretRecord } from './services/secretsmanager.js'
import {
  EmulatorState,
  getOrCreate,
  newAccount,
  type LastUsed,
  type Account,
  type CentralPrincipal,
  type KmsKey,
  type Organization
} from './state.js'
import { WorldError, type World, type WorldAccount, type WorldUser } from './world.js'

/** Builds the live state a world describes, with ages measured back from `now`. */

export const DEFAULT_CENTRAL_ROLE = 'iam-key-rotation-central'
export const DEFAULT_MEMBER_ROLE = 'iam-key-rotation-member'
export const DEFAULT_LIST_ACCOUNTS_ROLE = 'iam-key-rotation-list-accounts'

/** Accounts joined the organization this long before the world's load time. */
const ACCOUNT_AGE_DAYS = 730

/**
 * Dates `n` days before load time, and last-used records, shared between the entities that
 * have the same one: big worlds repeat a few hundred ages across hundreds of thousands of keys.
 * Sharing is safe because state never mutates a Date or a LastUsed, it replaces them.
 */
class Calendar {
  private readonly dates = new Map<number, Date>()
  private readonly lastUsed = new Map<string, LastUsed>()

  constructor(readonly now: Date) {}

  daysAgo(days: number): Date {
    return getOrCreate(this.dates, days, () => daysBefore(this.now, days))
  }

  used(daysAgo: number, service: string, region: string): LastUsed {
    return getOrCreate(this.lastUsed, `${daysAgo}|${service}|${region}`, () => ({
      date: this.daysAgo(daysAgo),
      service,
      region
    }))
  }
}

function organizationOf(world: World): Organization {
  const management = world.managementAccountId
  const rootId =
    world.rootId ?? `r-${world.organizationId.replace(/^o-/, '').slice(0, 4).padEnd(4, '0')}`
  const base = `arn:aws:organizations::${management}`
  return {
    id: world.organizationId,
    arn: `${base}:organization/${world.organizationId}`,
    managementAccountId: management,
    rootId,
    rootArn: `${base}:root/${world.organizationId}/${rootId}`
  }
}

/** The world's accounts, plus the management and central accounts when not listed. */
function accountEntries(world: World, central: CentralPrincipal): WorldAccount[] {
  const listed = world.accounts ?? []
  const ids = new Set(listed.map(entry => entry.id))
  const entries = [...listed]
  if (!ids.has(world.managementAccountId)) {
    entries.unshift({ id: world.managementAccountId, name: 'management' })
  }
  if (!ids.has(central.accountId) && central.accountId !== world.managementAccountId) {
    entries.push({ id: central.accountId, name: 'central' })
  }
  return entries
}

function seedOrganizationalUnits(state: EmulatorState, world: World): void {
  const { organization } = state
  for (const unit of world.organizationalUnits ?? []) {
    state.organizationalUnits.set(unit.id, {
      id: unit.id,
      name: unit.name ?? unit.id,
      parentId: unit.parentId ?? organization.rootId,
      arn: `arn:aws:organizations::${organization.managementAccountId}:ou/${organization.id}/${unit.id}`
    })
  }
  for (const unit of state.organizationalUnits.values()) {
    if (!state.isParent(unit.parentId)) {
      throw new WorldError(
        `organizational unit ${unit.id}: parent ${unit.parentId} is not declared`
      )
    }
    state.childrenOf(unit.parentId).organizationalUnits.push(unit.id)
  }
}

/** An OU named by an account but not declared: created under the root, named after its id. */
function ensureParent(state: EmulatorState, parentId: string): void {
  if (state.isParent(parentId)) return
  const { organization } = state
  state.organizationalUnits.set(parentId, {
    id: parentId,
    name: parentId,
    parentId: organization.rootId,
    arn: `arn:aws:organizations::${organization.managementAccountId}:ou/${organization.id}/${parentId}`
  })
  state.childrenOf(organization.rootId).organizationalUnits.push(parentId)
}

function seedUser(
  state: EmulatorState,
  account: Account,
  entry: WorldUser,
  calendar: Calendar
): void {
  const keys = entry.keys ?? []
  if (keys.length > 2) {
    throw new WorldError(
      `account ${account.id} user ${entry.name}: IAM allows at most 2 access keys`
    )
  }
  const oldestKey = Math.max(0, ...keys.map(key => key.ageDays))
  const user = addUser(state, account, {
    name: entry.name,
    path: entry.path,
    createDate: calendar.daysAgo(entry.createdDaysAgo ?? Math.max(30, oldestKey + 1)),
    tags: entry.tags && new Map(Object.entries(entry.tags))
  })
  if (entry.attachedPolicies) user.attachedPolicyArns = [...entry.attachedPolicies]
  if (entry.permissionsBoundary !== undefined) {
    // IAM takes a boundary from the user's own account or an AWS managed policy.
    if (
      !new RegExp(`^arn:aws:iam::(?:aws|${account.id}):policy/.+`).test(entry.permissionsBoundary)
    ) {
      throw new WorldError(
        `account ${account.id} user ${entry.name}: permissionsBoundary ${entry.permissionsBoundary} is not a managed policy ARN of this account or AWS`
      )
    }
    user.permissionsBoundary = entry.permissionsBoundary
  }
  keys.forEach((key, index) => {
    const id = key.id ?? state.ids.accessKeyId(`${account.id}/${entry.name}/${index}`)
    if (state.accessKeys.has(id)) throw new WorldError(`access key id ${id} is used twice`)
    const lastUsedDaysAgo = key.lastUsedDaysAgo ?? null
    addAccessKey(state, user, account.id, {
      id,
      status: key.status ?? 'Active',
      createDate: calendar.daysAgo(key.ageDays),
      ...(lastUsedDaysAgo !== null && {
        lastUsed: calendar.used(
          lastUsedDaysAgo,
          key.lastUsedService ?? 's3',
          key.lastUsedRegion ?? 'us-east-1'
        )
      })
    })
  })
}

function seedAccountIam(
  state: EmulatorState,
  account: Account,
  entry: WorldAccount,
  calendar: Calendar
): void {
  for (const policy of entry.managedPolicies ?? []) {
    const path = normalizePath(policy.path)
    const arn = iamArn(account.id, 'policy', path, policy.name)
    const document =
      typeof policy.document === 'string' ? policy.document : JSON.stringify(policy.document)
    const problems = policyProblems(document, 'identity')
    if (problems.length > 0) {
      throw new WorldError(
        `account ${account.id} managed policy ${policy.name}: ${problems.join('; ')}`
      )
    }
    if (account.iam.policies.has(arn)) {
      throw new WorldError(`account ${account.id}: managed policy ${arn} declared twice`)
    }
    account.iam.policies.set(arn, {
      name: policy.name,
      path,
      id: state.ids.uniqueId('ANPA', `${account.id}/policy/${path}${policy.name}`),
      arn,
      document,
      description: policy.description,
      createDate: calendar.daysAgo(ACCOUNT_AGE_DAYS),
      tags: new Map()
    })
  }
  // The central, list-accounts and member roles come from the templates (bootstrap.ts).
  for (const role of entry.roles ?? []) {
    putRole(state, account, {
      name: role.name,
      path: role.path,
      trust: trustFromPrincipals(
        account.id,
        role.trustedPrincipals ?? [],
        role.webIdentity ?? false
      ),
      createDate: calendar.daysAgo(ACCOUNT_AGE_DAYS),
      maxSessionDuration: role.maxSessionDuration,
      inlinePolicies: new Map(
        Object.entries(role.policies ?? {}).map(([name, document]) => [
          name,
          JSON.stringify(document)
        ])
      )
    })
  }
  for (const user of entry.users ?? []) seedUser(state, account, user, calendar)
  for (const group of entry.groups ?? []) {
    const path = normalizePath(group.path)
    const members = group.members ?? []
    for (const member of members) {
      const user = account.iam.users.get(member)
      if (!user) {
        throw new WorldError(`account ${account.id} group ${group.name}: no user named ${member}`)
      }
      user.groups = new Set([...user.groups, group.name])
    }
    account.iam.groups.set(group.name, {
      name: group.name,
      path,
      id: state.ids.uniqueId('AGPA', `${account.id}/group/${group.name}`),
      arn: iamArn(account.id, 'group', path, group.name),
      createDate: calendar.daysAgo(ACCOUNT_AGE_DAYS),
      members: [...members]
    })
  }
}

function seedSecrets(state: EmulatorState, account: Account, entry: WorldAccount, now: Date): void {
  for (const seed of entry.secrets ?? []) {
    const region = seed.region ?? 'us-east-1'
    if (account.secrets.get(region)?.has(seed.name)) {
      throw new WorldError(`account ${account.id}: secret ${seed.name} declared twice in ${region}`)
    }
    const secret = createSecretRecord(state, account, {
      name: seed.name,
      region,
      now,
      description: seed.description,
      kmsKeyId: seed.kmsKeyId,
      tags: new Map(Object.entries(seed.tags ?? {})),
      secretString: typeof seed.value === 'string' ? seed.value : JSON.stringify(seed.value)
    })
    if (seed.resourcePolicy !== undefined) {
      secret.resourcePolicy =
        typeof seed.resourcePolicy === 'string'
          ? seed.resourcePolicy
          : JSON.stringify(seed.resourcePolicy)
    }
    for (const replicaRegion of seed.replicaRegions ?? []) {
      addReplica(account, secret, replicaRegion, undefined, false)
    }
  }
}

function seedKmsKeys(state: EmulatorState, account: Account, entry: WorldAccount, now: Date): void {
  for (const [index, seed] of (entry.kmsKeys ?? []).entries()) {
    const where = `account ${account.id} kmsKeys[${index}]`
    const multiRegion = seed.multiRegion ?? false
    const id =
      seed.id ?? (multiRegion ? `mrk-${state.ids.uuid().replace(/-/g, '')}` : state.ids.uuid())
    if (multiRegion !== /^mrk-[0-9a-f]{32}$/.test(id)) {
      throw new WorldError(
        `${where}: a multi-Region key's id is mrk- and 32 hex digits, no other's`
      )
    }
    if (!multiRegion && seed.replicaRegions?.length) {
      throw new WorldError(`${where}: only a multi-Region key has replicas`)
    }
    const region = seed.region ?? 'us-east-1'
    const arn = `arn:aws:kms:${region}:${account.id}:key/${id}`
    if (account.kms.has(arn)) throw new WorldError(`${where}: key ${arn} declared twice`)
    const policy =
      seed.policy === undefined
        ? JSON.stringify(defaultKeyPolicy(account.id))
        : typeof seed.policy === 'string'
          ? seed.policy
          : JSON.stringify(seed.policy)
    const problems = policyProblems(policy, 'resource')
    if (problems.length > 0) throw new WorldError(`${where}: ${problems.join('; ')}`)
    const key: KmsKey = {
      id,
      arn,
      accountId: account.id,
      region,
      policy,
      enabled: true,
      description: undefined,
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      creationDate: now,
      origin: undefined,
      keyPair: undefined,
      multiRegionPrimaryArn: multiRegion ? arn : undefined
    }
    account.kms.set(arn, key)
    if (seed.alias !== undefined) {
      account.kmsAliases.set(`arn:aws:kms:${region}:${account.id}:${seed.alias}`, arn)
    }
    for (const replicaRegion of seed.replicaRegions ?? []) {
      replicateKmsKey(account, key, replicaRegion, now)
    }
  }
}

export function buildState(world: World, now: Date): EmulatorState {
  const calendar = new Calendar(now)
  const organization = organizationOf(world)
  const centralAccountId = world.central?.accountId ?? world.managementAccountId
  const centralRoleName = world.central?.roleName ?? DEFAULT_CENTRAL_ROLE
  const central: CentralPrincipal = {
    accountId: centralAccountId,
    roleName: centralRoleName,
    roleArn: iamArn(centralAccountId, 'role', '/', centralRoleName)
  }
  const state = new EmulatorState(
    organization,
    central,
    {
      pageSizes: world.pageSizes ?? {},
      memberRoleName: world.memberRoleName ?? DEFAULT_MEMBER_ROLE,
      listAccountsRoleName: world.listAccountsRoleName ?? DEFAULT_LIST_ACCOUNTS_ROLE,
      ses: {
        verifiedIdentities: new Set(
          (world.ses?.verifiedIdentities ?? []).map(identity => identity.toLowerCase())
        ),
        max24HourSend: world.ses?.max24HourSend ?? 50_000,
        maxSendRate: world.ses?.maxSendRate ?? 14
      },
      cloudformation: {
        failInstanceAccounts: new Set(world.cloudformation?.failInstanceAccounts ?? []),
        inoperableInstanceAccounts: new Set(world.cloudformation?.inoperableInstanceAccounts ?? [])
      }
    },
    new IdFactory(world.seed ?? 1)
  )
  seedOrganizationalUnits(state, world)
  const entries = accountEntries(world, central)
  for (const entry of entries) {
    const parentId = entry.ou ?? organization.rootId
    ensureParent(state, parentId)
    const account = newAccount({
      id: entry.id,
      name: entry.name ?? entry.id,
      email: entry.email ?? `aws+${entry.id}@example.com`,
      status: entry.status ?? 'ACTIVE',
      arn: `arn:aws:organizations::${organization.managementAccountId}:account/${organization.id}/${entry.id}`,
      parentId,
      joinedTimestamp: calendar.daysAgo(ACCOUNT_AGE_DAYS)
    })
    state.accounts.set(account.id, account)
    state.accountIds.push(account.id)
    state.childrenOf(parentId).accounts.push(account.id)
  }
  for (const entry of entries) {
    const account = state.accounts.get(entry.id)
    if (!account) continue
    seedAccountIam(state, account, entry, calendar)
    seedKmsKeys(state, account, entry, now)
    seedSecrets(state, account, entry, now)
  }
  bootstrap(state, world, calendar.daysAgo(ACCOUNT_AGE_DAYS))
  for (const stackSet of world.cloudformation?.stackSets ?? []) seedStackSet(state, stackSet, now)
  return state
}
