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
  type PolicyParams,
  type RecordClaim,
  type UserDecision,
  type UserFacts
} from '../policy/index.js'
import type { StoredSecret } from '../secrets/store.js'
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
   * The user's secret, read at most once per user and only where it can change the decision:
   * it recognises a rotation whose state was lost or interrupted, and confirms an unsigned
   * rotation record of an earlier version (migration).
   */
  readonly storedSecret?: (userName: string) => Promise<StoredSecret | undefined>
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
  let report: CredentialReport | undefined
  try {
    report = await readCredentialReport(iam, options.reportPoll, requested)
  } catch (error) {
    options.warn?.(
      `Account ${options.accountId}: credential report unavailable (${errorMessage(error)}); listing every user's keys instead.`
    )
  }

  const reportByUser = new Map(report?.users.map(user => [user.userName, user.keys]))
  const users: ScannedUser[] = []
  const failedUsers: FailedUser[] = []
  const forcedUsersFound: string[] = []
  let keysScanned = 0
  for (const entry of directory.values()) {
    if (options.isForced(entry.userName)) forcedUsersFound.push(entry.userName)
    const source: KeySource = report
      ? { kind: 'report', generatedAt: report.generatedAt, keys: reportByUser.get(entry.userName) }
      : { kind: 'live' }
    try {
      const scanned = await scanUser(iam, entry, source, options)
      keysScanned += scanned.keyCount
      if (scanned.user) users.push(scanned.user)
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
    failedUsers,
    forcedUsersFound,
    source: report ? 'credential-report' : 'per-user-calls'
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
  options: ScanOptions
): Promise<{ user?: ScannedUser; keyCount: number }> {
  const tagged = recordsFromTags(entry.tags)
  const records = claimsOf(tagged, entry.userName, options)
  const owner = options.ownerTag ? entry.tags.get(options.ownerTag) : undefined
  const exemptReason = exemptionOf(entry, options)
  const exempt = exemptReason !== undefined
  const forced = options.isForced(entry.userName)
  const base = {
    userName: entry.userName,
    exempt,
    ...(exemptReason ? { exemptReason } : {}),
    forced
  }

  let keys: KeyFacts[]
  if (source.kind === 'live') {
    keys = await listKeysWithLiveLastUse(iam, entry.userName)
  } else if (source.keys === undefined || forced || changedSince(tagged, source.generatedAt)) {
    // Execution rule 5: AWS reuses a report for up to 4 hours. A user it does not know yet, a
    // user whose state this tool changed after it was generated, and a forced user are read live.
    keys = await listKeysWithReportDates(iam, entry.userName, source.keys ?? [])
  } else {
    const reportKeys = source.keys
    if (reportKeys.length === 0 && !exempt) return { keyCount: 0 }
    // Name the keys from the tool's own signed records when they cover every slot. A user with
    // no records at all is decided on placeholder ids first and listed only with something to do.
    const named = nameFromRecords(reportKeys, namingRecords(tagged, records))
    keys = named ?? reportKeys.map(key => ({ ...toFacts(key), accessKeyId: `slot-${key.slot}` }))
    if (!named && !exempt) {
      if (tagged.size === 0) {
        const draft = evaluateUser({ ...base, keys, records: {} }, options.policy, options.now)
        if (!needsAttention(draft)) return { keyCount: reportKeys.length }
      }
      keys = await listKeysWithReportDates(iam, entry.userName, reportKeys)
    }
  }

  let secretRead: Promise<StoredSecret | undefined> | undefined
  const readSecret = (read: NonNullable<ScanOptions['storedSecret']>) =>
    (secretRead ??= read(entry.userName))
  const secretUnreadable = (error: unknown) =>
    options.warn?.(
      `Account ${options.accountId}: could not read the stored secret of ${entry.userName} (${errorMessage(error)}).`
    )

  // Migration: an unsigned rotation record counts only if the earlier version's secret confirms it.
  let legacySecret: UserFacts['legacySecret']
  if (
    options.storedSecret &&
    Object.values(records).some(c => c.origin === 'legacy' && c.record.replacementKeyId)
  ) {
    try {
      const secret = await readSecret(options.storedSecret)
      if (secret?.taggedKeyId && secret.storedAt) {
        legacySecret = { accessKeyId: secret.taggedKeyId, storedAt: secret.storedAt }
      }
    } catch (error) {
      secretUnreadable(error)
    }
  }
  let facts: UserFacts = {
    ...base,
    keys,
    records,
    ...(legacySecret ? { legacySecret } : {}),
    ...(options.signedStateSince ? { signedStateSince: options.signedStateSince } : {})
  }
  let decision = evaluateUser(facts, options.policy, options.now)
  if (
    needsAttention(decision) &&
    options.storedSecret &&
    mayNeedTheSecret(keys, decision.trusted)
  ) {
    // Unknown is not "absent": no key that might be the stored one is removed on it.
    let evidence: Pick<UserFacts, 'storedSecretKeyId' | 'storedSecretUnknown'> = {}
    try {
      const secret = await readSecret(options.storedSecret)
      const stored = secret?.currentKeyId
      const key = keys.find(k => k.accessKeyId === stored)
      if (secret?.markerProblem !== undefined) {
        evidence = { storedSecretUnknown: true }
        secretUnreadable(
          `secret ${secret.name} is not known to be this tool's: its marker failed verification (${secret.markerProblem})`
        )
      } else if (
        key &&
        secret?.storedAt &&
        near(secret.storedAt, key.createdAt, REPLACEMENT_TOLERANCE_MS)
      ) {
        evidence = { storedSecretKeyId: key.accessKeyId }
      } else if (stored) {
        options.warn?.(
          `Account ${options.accountId}: the secret of ${entry.userName} names ${stored}, but its value was not written when that key was created; it is not taken for this tool's rotation.`
        )
      }
    } catch (error) {
      evidence = { storedSecretUnknown: true }
      secretUnreadable(error)
    }
    if (evidence.storedSecretKeyId || evidence.storedSecretUnknown) {
      facts = { ...facts, ...evidence }
      decision = evaluateUser(facts, options.policy, options.now)
    }
  }
  if (!exempt && !needsAttention(decision)) return { keyCount: keys.length }
  return {
    keyCount: keys.length,
    user: {
      userName: entry.userName,
      arn: entry.arn,
      exempt,
      ...(owner ? { owner } : {}),
      facts,
      decision
    }
  }
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
    const at = response.AccessKeyLastUsed?.LastUsedDate
    return at ? { kind: 'date', at } : { kind: 'never' }
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
        tags: new Map((user.Tags ?? []).map(tag => [tag.Key ?? '', tag.Value ?? '']))
      })
    }
    marker = page.IsTruncated ? page.Marker : undefined
  } while (marker)
  return users
}
