import {
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  ListAccessKeysCommand,
  type AccessKeyMetadata,
  type IAMClient
} from '@aws-sdk/client-iam'
import {
  REPLACEMENT_TOLERANCE_MS,
  evaluateUser,
  type ExemptReason,
  type KeyFacts,
  type KeyRecord,
  type LastUsed,
  type NewKeyAccess,
  type PolicyParams,
  type RecordClaim,
  type UserDecision,
  type UserFacts
} from '../policy/index.js'
import type { InventoryUser } from '../plan/key-inventory.js'
import type { SecretSnapshot } from '../secrets/health.js'
import { SECRET_KEY_ID_TAG, keyIdOfVersion, type InspectedSecret } from '../secrets/store.js'
import { claimOf, type StateVerifier } from '../state/signing.js'
import { errorMessage } from '../util/errors.js'
import {
  generationState,
  readCredentialReport,
  type CredentialReport,
  type ReportKey
} from './credential-report.js'
import { recordsFromTags, type TaggedRecord } from './lifecycle-tags.js'

/** A user of the directory: every IAM user of the account with its groups and tags. */
export interface DirectoryUser {
  readonly userName: string
  readonly arn: string
  readonly groups: readonly string[]
  readonly tags: ReadonlyMap<string, string>
  /** ARNs of the managed policies attached to the user itself. */
  readonly attachedPolicyArns: readonly string[]
}

/** The scan's view of the users' secrets (engine.ts builds it over `SecretStore`). */
export interface ScanSecrets {
  /**
   * The secrets of these users, read back and judged, by user name (a user without one is not
   * in the map; one that could not be read maps to its error). Throws when none can be listed.
   */
  inspectAll(users: readonly DirectoryUser[]): Promise<Map<string, InspectedSecret | Error>>
  /** When the secret's current version was written. */
  currentVersionDate(secretArn: string): Promise<Date | undefined>
  /** undefined when IAM lets the user read (and decrypt) the secret; else what it denies. */
  whyUserCannotRead(user: DirectoryUser, snapshot: SecretSnapshot): Promise<string | undefined>
}

export interface ScanOptions {
  readonly accountId: string
  readonly exemptionGroup: string
  /** IAM path whose users are in scope ("/" for all). */
  readonly userPath?: string
  readonly ownerTag?: string
  readonly policy: PolicyParams
  readonly now: Date
  readonly isForced: (userName: string) => boolean
  /** Checks the signatures of lifecycle records. */
  readonly verifier: StateVerifier
  /** When signed state began (the state key's creation): no unsigned record can be newer. */
  readonly signedStateSince?: Date
  /**
   * The users' secrets: each one checked on every run (its drift repaired in enforce mode); its
   * current version recognises a rotation whose state was lost or interrupted and confirms an
   * unsigned rotation record of an earlier version (migration); IAM says whether its user can
   * read it before an old key is deactivated.
   */
  readonly secrets?: ScanSecrets
  readonly reportPoll?: Parameters<typeof readCredentialReport>[1]
  readonly warn?: (message: string) => void
}

/** A user with something to report: an action, a note, state to record, or exempt. */
export interface ScannedUser {
  readonly userName: string
  readonly arn: string
  readonly exempt: boolean
  readonly owner?: string
  readonly facts: UserFacts
  readonly decision: UserDecision
  /** The user's secret as checked this run; undefined: none, or it could not be read. */
  readonly secret?: InspectedSecret
}

/** A user the scan could not read (execution rule 7): that user's failure, not the account's. */
export interface FailedUser {
  readonly userName: string
  readonly error: string
}

export interface AccountScan {
  readonly usersScanned: number
  readonly keysScanned: number
  readonly users: ScannedUser[]
  /**
   * Every user scanned that has keys, with all its keys and the policy's decision: those with
   * nothing to do too (the inventory, keys.csv). Holds only what `users` holds and the facts.
   */
  readonly inventory: InventoryUser[]
  readonly failedUsers: FailedUser[]
  /** Forced user names that exist in this account. */
  readonly forcedUsersFound: string[]
  /** Where key facts came from: the credential report, or per-user calls when it failed. */
  readonly source: 'credential-report' | 'per-user-calls'
}

/** Timestamps in the credential report and in ListAccessKeys agree to the second. */
const SAME_KEY_TOLERANCE_MS = 1_000
/** How far a recorded change may seem to precede the report it came after (clock reading). */
const REPORT_CLOCK_MARGIN_MS = 5 * 60_000

/**
 * Scans one account in few calls: the directory (users, groups, tags) and the credential report
 * (every key's status and dates) cover everybody; only users with something to do get per-user
 * calls, to learn their key ids. When the report is unavailable, every user's keys are listed.
 */
export async function scanAccount(iam: IAMClient, options: ScanOptions): Promise<AccountScan> {
  // Start the report first: IAM generates it while the directory is read.
  const requested = generationState(iam)
  requested.catch(() => undefined) // its failure surfaces in readCredentialReport below
  const directory = await readDirectory(iam)
  // Every managed secret is checked on every run (not the tool's, or drifted from what it made),
  // read while IAM generates the report.
  const secretsRead = readSecrets(directory, options)
  secretsRead.catch(() => undefined) // its failure surfaces when it is awaited below
  let report: CredentialReport | undefined
  try {
    report = await readCredentialReport(iam, options.reportPoll, requested)
  } catch (error) {
    options.warn?.(
      `Account ${options.accountId}: credential report unavailable (${errorMessage(error)}); listing every user's keys instead.`
    )
  }

  const secrets = await secretsRead
  const reportByUser = new Map(report?.users.map(user => [user.userName, user.keys]))
  const users: ScannedUser[] = []
  const inventory: InventoryUser[] = []
  const failedUsers: FailedUser[] = []
  const forcedUsersFound: string[] = []
  let keysScanned = 0
  for (const entry of directory.values()) {
    if (options.isForced(entry.userName)) forcedUsersFound.push(entry.userName)
    const source: KeySource = report
      ? { kind: 'report', generatedAt: report.generatedAt, keys: reportByUser.get(entry.userName) }
      : { kind: 'live' }
    try {
      const scanned = await scanUser(iam, entry, source, secrets.get(entry.userName), options)
      keysScanned += scanned.keyCount
      if (scanned.user) users.push(scanned.user)
      if (scanned.inventory) inventory.push(scanned.inventory)
    } catch (error) {
      // Execution rule 7: one user's failed call (deleted mid-scan, denied, throttled after
      // retries) is that user's failure; the account's other users go on.
      failedUsers.push({ userName: entry.userName, error: errorMessage(error) })
      options.warn?.(
        `Account ${options.accountId}: user ${entry.userName} could not be scanned: ${errorMessage(error)}`
      )
    }
  }
  return {
    usersScanned: directory.size,
    keysScanned,
    users,
    inventory,
    failedUsers,
    forcedUsersFound,
    source: report ? 'credential-report' : 'per-user-calls'
  }
}

/**
 * The users' secrets, each read and judged. Listing them is the account's: when it fails, the
 * account fails (nothing is written into, or said about, a secret the run could not see).
 */
async function readSecrets(
  directory: ReadonlyMap<string, DirectoryUser>,
  options: ScanOptions
): Promise<Map<string, InspectedSecret | Error>> {
  if (!options.secrets) return new Map()
  const inScope = [...directory.values()].filter(entry => !exemptionOf(entry, options))
  try {
    return await options.secrets.inspectAll(inScope)
  } catch (error) {
    throw new Error(`the users' secrets could not be listed: ${errorMessage(error)}`, {
      cause: error
    })
  }
}

/** Where a user's key facts come from: the credential report (if the user is in it), or live calls. */
type KeySource =
  | { kind: 'report'; generatedAt: Date | undefined; keys: readonly ReportKey[] | undefined }
  | { kind: 'live' }

async function scanUser(
  iam: IAMClient,
  entry: DirectoryUser,
  source: KeySource,
  read: InspectedSecret | Error | undefined,
  options: ScanOptions
): Promise<{ user?: ScannedUser; inventory?: InventoryUser; keyCount: number }> {
  const tagged = recordsFromTags(entry.tags)
  const records = claimsOf(tagged, entry.userName, options)
  const owner = options.ownerTag ? entry.tags.get(options.ownerTag) : undefined
  const exemptReason = exemptionOf(entry, options)
  const exempt = exemptReason !== undefined
  const forced = options.isForced(entry.userName)

  // A secret the run could not read is this user's failure: no key is made, kept or removed on
  // a guess about what it holds (execution rule 7).
  if (read instanceof Error && !exempt) {
    throw new Error(`its secret could not be read: ${errorMessage(read)}`, { cause: read })
  }
  const secret = read instanceof Error ? undefined : read
  const secretUnreadable = (error: unknown) =>
    options.warn?.(
      `Account ${options.accountId}: could not read the stored secret of ${entry.userName} (${errorMessage(error)}).`
    )
  const secretNeedsAttention =
    secret !== undefined && (!secret.check.owned || secret.check.problems.length > 0)

  const base = {
    userName: entry.userName,
    exempt,
    ...(exemptReason ? { exemptReason } : {}),
    forced
  }

  let keys: KeyFacts[]
  // false while the keys carry placeholder ids (credential report slots), not looked up.
  let idsKnown = true
  if (source.kind === 'live') {
    keys = await listKeysWithLiveLastUse(iam, entry.userName)
  } else if (source.keys === undefined || forced || changedSince(tagged, source.generatedAt)) {
    // Execution rule 5: AWS reuses a report for up to 4 hours. A user it does not know yet, a
    // user whose state this tool changed after it was generated, and a forced user are read live.
    keys = await listKeysWithReportDates(iam, entry.userName, source.keys ?? [])
  } else {
    const reportKeys = source.keys
    if (reportKeys.length === 0 && !exempt && !secretNeedsAttention) return { keyCount: 0 }
    // Name the keys from the tool's own signed records when they cover every slot. A user with
    // no records at all is decided on placeholder ids first and listed only with something to do.
    const named = nameFromRecords(reportKeys, namingRecords(tagged, records))
    keys = named ?? reportKeys.map(key => ({ ...toFacts(key), accessKeyId: `slot-${key.slot}` }))
    idsKnown = named !== undefined
    if (!named && !exempt) {
      if (tagged.size === 0) {
        const draft = evaluateUser({ ...base, keys, records: {} }, options.policy, options.now)
        if (!needsAttention(draft) && !secretNeedsAttention) {
          return {
            keyCount: reportKeys.length,
            inventory: { ...base, keys, decision: draft, idsKnown: false }
          }
        }
      }
      keys = await listKeysWithReportDates(iam, entry.userName, reportKeys)
      idsKnown = true
    }
  }

  let versionDate: Promise<Date | undefined> | undefined
  const storedAt = (held: InspectedSecret) =>
    (versionDate ??=
      options.secrets?.currentVersionDate(held.snapshot.arn) ?? Promise.resolve(undefined))
  const owned = secret?.check.owned === true ? secret : undefined

  // Migration: an unsigned rotation record counts only if the earlier version's secret confirms it.
  let legacySecret: UserFacts['legacySecret']
  const taggedKeyId = owned?.snapshot.tags.get(SECRET_KEY_ID_TAG)
  if (
    owned &&
    taggedKeyId &&
    Object.values(records).some(c => c.origin === 'legacy' && c.record.replacementKeyId)
  ) {
    try {
      const at = await storedAt(owned)
      if (at) legacySecret = { accessKeyId: taggedKeyId, storedAt: at }
    } catch (error) {
      secretUnreadable(error)
    }
  }
  let facts: UserFacts = {
    ...base,
    keys,
    records,
    ...(legacySecret ? { legacySecret } : {}),
    ...(options.signedStateSince ? { signedStateSince: options.signedStateSince } : {}),
    ...(secret && !secret.check.owned ? { secretNotOwned: secret.check.reason } : {})
  }
  let decision = evaluateUser(facts, options.policy, options.now)
  if (needsAttention(decision) && mayNeedTheSecret(keys, decision.trusted)) {
    // Unknown is not "absent": no key that might be the stored one is removed on it.
    let evidence: Pick<UserFacts, 'storedSecretKeyId' | 'storedSecretUnknown'> = {}
    if (secret && !secret.check.owned) {
      evidence = { storedSecretUnknown: true }
      options.warn?.(
        `Account ${options.accountId}: ${secret.check.reason}; it is not read as state.`
      )
    } else if (owned) {
      try {
        const evidenceKey = heldKey(owned, keys, await storedAt(owned))
        if (evidenceKey) evidence = { storedSecretKeyId: evidenceKey }
      } catch (error) {
        evidence = { storedSecretUnknown: true }
        secretUnreadable(error)
      }
    }
    if (evidence.storedSecretKeyId || evidence.storedSecretUnknown) {
      facts = { ...facts, ...evidence }
      decision = evaluateUser(facts, options.policy, options.now)
    }
  }
  // Execution rule 3: an old key is deactivated only once its user can read the new one.
  const replacement = decision.awaitsAccessCheck
  if (replacement !== undefined && options.secrets) {
    const check: AccessCheck = { entry, keys, secret, storedAt, secrets: options.secrets }
    facts = { ...facts, newKeyAccess: await newKeyAccess(replacement, check) }
    decision = evaluateUser(facts, options.policy, options.now)
  }
  const inventory: InventoryUser | undefined =
    keys.length > 0 ? { ...base, keys, decision, idsKnown } : undefined
  if (!exempt && !needsAttention(decision) && !secretNeedsAttention) {
    return { keyCount: keys.length, ...(inventory ? { inventory } : {}) }
  }
  return {
    keyCount: keys.length,
    ...(inventory ? { inventory } : {}),
    user: {
      userName: entry.userName,
      arn: entry.arn,
      exempt,
      ...(owner ? { owner } : {}),
      facts,
      decision,
      ...(secret ? { secret } : {})
    }
  }
}

/**
 * The key the tool's secret holds: its current version names it (0.1.0's secrets: their tag),
 * and was written when that key was created. A version id anyone could choose counts only then.
 */
function heldKey(
  secret: InspectedSecret,
  keys: readonly KeyFacts[],
  storedAt: Date | undefined
): string | undefined {
  const named =
    keyIdOfVersion(secret.snapshot.currentVersionId) ?? secret.snapshot.tags.get(SECRET_KEY_ID_TAG)
  const key = keys.find(k => k.accessKeyId === named)
  if (!key || !storedAt || !near(storedAt, key.createdAt, REPLACEMENT_TOLERANCE_MS))
    return undefined
  return key.accessKeyId
}

interface AccessCheck {
  readonly entry: DirectoryUser
  readonly keys: readonly KeyFacts[]
  readonly secret: InspectedSecret | undefined
  readonly storedAt: (secret: InspectedSecret) => Promise<Date | undefined>
  readonly secrets: ScanSecrets
}

/** Secret drift that keeps the user from its key (replicas do not). */
const BLOCKS_READING = new Set(['restore', 'resource-policy', 'kms-key', 'read-grant', 'marker'])

/**
 * Whether the user can read `replacement`: the rotation complete (the tool's secret holds the
 * key, its policy, key and the user's grant as the tool made them) and IAM allowing the read.
 */
async function newKeyAccess(replacement: string, check: AccessCheck): Promise<NewKeyAccess> {
  const { entry, secret } = check
  const waits = (problem: string, fix: string): NewKeyAccess => ({
    accessKeyId: replacement,
    readable: false,
    problem,
    fix
  })
  if (!secret) {
    return waits(
      'no secret holds it',
      'restore the secret if it was deleted (aws secretsmanager restore-secret), or force-rotate the user'
    )
  }
  if (!secret.check.owned) {
    return waits(
      secret.check.reason,
      'delete that secret or change secret-name-prefix, then force-rotate the user'
    )
  }
  let held: string | undefined
  try {
    held = heldKey(secret, check.keys, await check.storedAt(secret))
  } catch (error) {
    return waits(
      `its secret could not be read (${errorMessage(error)})`,
      'the next run checks again'
    )
  }
  if (held !== replacement) {
    return waits(
      `secret ${secret.snapshot.name} does not hold it (the rotation did not store it)`,
      'force-rotate the user to make and store a new key'
    )
  }
  const blocking = secret.check.problems.filter(problem => BLOCKS_READING.has(problem.repair.kind))
  if (blocking.length > 0) {
    const grant = blocking.some(problem => problem.repair.kind === 'read-grant')
    return waits(
      blocking.map(problem => problem.problem).join('; '),
      `${blocking.map(problem => problem.remedy).join(', ')}: the next run in enforce mode does this` +
        (grant
          ? '; a user with 10 managed policies must have one detached, or the quota raised, first'
          : '')
    )
  }
  try {
    const denied = await check.secrets.whyUserCannotRead(entry, secret.snapshot)
    if (denied) {
      return waits(
        denied,
        "check the user's permissions boundary and any Deny in its policies, groups or SCPs"
      )
    }
  } catch (error) {
    return waits(
      `iam:SimulatePrincipalPolicy failed (${errorMessage(error)})`,
      'update the member role (StackSet) so that it may call iam:SimulatePrincipalPolicy'
    )
  }
  return { accessKeyId: replacement, readable: true }
}

function needsAttention(decision: UserDecision): boolean {
  return (
    decision.actions.length > 0 ||
    decision.notes.length > 0 ||
    decision.lifecycleUpdates.length > 0 ||
    decision.stateFindings.length > 0
  )
}

/** Each tagged record with where it came from, by its signature (`claimOf`). */
function claimsOf(
  tagged: ReadonlyMap<string, TaggedRecord>,
  userName: string,
  options: Pick<ScanOptions, 'accountId' | 'verifier'>
): Record<string, RecordClaim> {
  const claims: Record<string, RecordClaim> = {}
  for (const [accessKeyId, record] of tagged) {
    claims[accessKeyId] = claimOf(
      options.verifier,
      { accountId: options.accountId, userName, accessKeyId },
      record
    )
  }
  return claims
}

/** Only records the signature vouches for may name a key. */
function namingRecords(
  tagged: ReadonlyMap<string, TaggedRecord>,
  claims: Readonly<Record<string, RecordClaim>>
): Map<string, KeyRecord> {
  const usable = new Map<string, KeyRecord>()
  for (const [accessKeyId, { record }] of tagged) {
    if (claims[accessKeyId]?.origin === 'signed') usable.set(accessKeyId, record)
  }
  return usable
}

/**
 * Any date in the user's records (verified or not) not clearly before the report was generated.
 * The tool dates its writes by AWS's clock as read from the Date header, to the second, so a
 * change made moments after the report may carry an earlier time: a margin covers that.
 */
function changedSince(tagged: ReadonlyMap<string, TaggedRecord>, generatedAt: Date | undefined) {
  if (generatedAt === undefined) return tagged.size > 0
  const since = generatedAt.getTime() - REPORT_CLOCK_MARGIN_MS
  for (const { record } of tagged.values()) {
    for (const value of Object.values(record)) {
      if (value instanceof Date && value.getTime() >= since) return true
    }
  }
  return false
}

/**
 * The secret is read only where it can change the decision: two active keys without a trusted
 * rotation record (one whose state was lost), or an interrupted rotation (its intent recorded).
 */
function mayNeedTheSecret(
  keys: readonly KeyFacts[],
  trusted: Readonly<Record<string, KeyRecord>>
): boolean {
  const records = keys.map(key =>
    Object.hasOwn(trusted, key.accessKeyId) ? trusted[key.accessKeyId] : undefined
  )
  if (records.some(record => record?.rotationStartedAt !== undefined)) return true
  const active = keys.filter(key => key.status === 'Active')
  return active.length === 2 && !records.some(record => record?.replacementKeyId !== undefined)
}

function toFacts(key: ReportKey): Omit<KeyFacts, 'accessKeyId'> {
  return { status: key.status, createdAt: key.createdAt, lastUsed: key.lastUsed }
}

/**
 * Names report slots from the lifecycle records: a record's creation date identifies its key,
 * and a rotation record names the replacement created at the rotation time.
 */
export function nameFromRecords(
  reportKeys: readonly ReportKey[],
  records: ReadonlyMap<string, KeyRecord>
): KeyFacts[] | undefined {
  const named: KeyFacts[] = []
  const used = new Set<string>()
  for (const key of reportKeys) {
    let id: string | undefined
    for (const [accessKeyId, record] of records) {
      if (
        !used.has(accessKeyId) &&
        record.createdAt &&
        near(record.createdAt, key.createdAt, SAME_KEY_TOLERANCE_MS)
      ) {
        id = accessKeyId
      }
    }
    if (!id) {
      for (const record of records.values()) {
        const replacement = record.replacementKeyId
        if (
          replacement &&
          !used.has(replacement) &&
          record.rotatedAt &&
          near(record.rotatedAt, key.createdAt, REPLACEMENT_TOLERANCE_MS)
        ) {
          id = replacement
        }
      }
    }
    if (!id) return undefined
    used.add(id)
    named.push({ ...toFacts(key), accessKeyId: id })
  }
  return named
}

function near(a: Date, b: Date, toleranceMs: number): boolean {
  return Math.abs(a.getTime() - b.getTime()) <= toleranceMs
}

/** A user's keys, every page. */
export async function listKeys(iam: IAMClient, userName: string): Promise<AccessKeyMetadata[]> {
  const keys: AccessKeyMetadata[] = []
  let marker: string | undefined
  do {
    const page = await iam.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker }))
    keys.push(...(page.AccessKeyMetadata ?? []))
    marker = page.IsTruncated ? page.Marker : undefined
  } while (marker)
  return keys
}

/** Key ids from IAM, last use from the report (matched by creation date); live lookup if unmatched. */
async function listKeysWithReportDates(
  iam: IAMClient,
  userName: string,
  reportKeys: readonly ReportKey[]
): Promise<KeyFacts[]> {
  const listed = await listKeys(iam, userName)
  return Promise.all(
    listed.map(async key => {
      const createdAt = key.CreateDate ?? new Date(0)
      const slot = reportKeys.find(candidate =>
        near(candidate.createdAt, createdAt, SAME_KEY_TOLERANCE_MS)
      )
      return {
        accessKeyId: key.AccessKeyId ?? '',
        status: key.Status === 'Active' ? 'Active' : 'Inactive',
        createdAt,
        // A key newer than the report (up to 4 hours old) is looked up live.
        lastUsed: slot ? slot.lastUsed : await lastUsedOf(iam, key.AccessKeyId ?? '')
      } satisfies KeyFacts
    })
  )
}

async function listKeysWithLiveLastUse(iam: IAMClient, userName: string): Promise<KeyFacts[]> {
  const listed = await listKeys(iam, userName)
  const keys: KeyFacts[] = []
  for (const key of listed) {
    keys.push({
      accessKeyId: key.AccessKeyId ?? '',
      status: key.Status === 'Active' ? 'Active' : 'Inactive',
      createdAt: key.CreateDate ?? new Date(0),
      lastUsed: await lastUsedOf(iam, key.AccessKeyId ?? '')
    })
  }
  return keys
}

/** Live last use of a key. A failed lookup is `unknown`, never `never`. */
export async function lastUsedOf(iam: IAMClient, accessKeyId: string): Promise<LastUsed> {
  try {
    const response = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }))
    const used = response.AccessKeyLastUsed
    const at = used?.LastUsedDate
    if (!at) return { kind: 'never' }
    // AWS says "N/A" where it does not know the service or region.
    const known = (value: string | undefined) => (value && value !== 'N/A' ? value : undefined)
    const service = known(used.ServiceName)
    const region = known(used.Region)
    return { kind: 'date', at, ...(service ? { service } : {}), ...(region ? { region } : {}) }
  } catch {
    return { kind: 'unknown' }
  }
}

/** The tag that puts a user out of the tool's reach; the member role may not change it. */
export const PROTECTED_TAG = 'iam-key-rotation:protected'

/** Why a user is never evaluated, or undefined when it is evaluated. */
export function exemptionOf(
  user: Pick<DirectoryUser, 'arn' | 'groups' | 'tags'>,
  options: Pick<ScanOptions, 'exemptionGroup' | 'userPath'>
): ExemptReason | undefined {
  if (user.groups.includes(options.exemptionGroup)) return 'exemption-group'
  // The tag key is matched as IAM matches it (case-insensitively), the value as the template's
  // StringEqualsIgnoreCase does.
  for (const [key, value] of user.tags) {
    if (key.toLowerCase() === PROTECTED_TAG && value.toLowerCase() === 'true')
      return 'protected-tag'
  }
  if (
    options.userPath &&
    options.userPath !== '/' &&
    !pathOf(user.arn).startsWith(options.userPath)
  )
    return 'outside-user-path'
  return undefined
}

/** The path of a user ARN (arn:aws:iam::1…:user/apps/bob → /apps/). */
function pathOf(userArn: string): string {
  const resource = userArn.slice(userArn.indexOf(':user/') + ':user'.length)
  return resource.slice(0, resource.lastIndexOf('/') + 1)
}

/**
 * Every IAM user with its groups and tags, in one paged call: it replaces a GetGroup for the
 * exemption group plus a ListUserTags per user.
 */
export async function readDirectory(iam: IAMClient): Promise<Map<string, DirectoryUser>> {
  const users = new Map<string, DirectoryUser>()
  let marker: string | undefined
  do {
    const page = await iam.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: ['User'],
        MaxItems: 1000,
        Marker: marker
      })
    )
    for (const user of page.UserDetailList ?? []) {
      if (!user.UserName) continue
      users.set(user.UserName, {
        userName: user.UserName,
        arn: user.Arn ?? '',
        groups: user.GroupList ?? [],
        attachedPolicyArns: (user.AttachedManagedPolicies ?? []).flatMap(p =>
          p.PolicyArn ? [p.PolicyArn] : []
        ),
        tags: new Map((user.Tags ?? []).map(tag => [tag.Key ?? '', tag.Value ?? '']))
      })
    }
    marker = page.IsTruncated ? page.Marker : undefined
  } while (marker)
  return users
}
