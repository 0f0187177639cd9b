// Which recorded state the policy may follow (key-policy.md, "Facts per key"). Tags and secrets
// can be written by anyone with iam:TagUser or secretsmanager:CreateSecret in a member account,
// so a record steers nothing until it has passed these checks. Pure: the signature check itself
// happens in the scan; what arrives here says where each record came from.

import { REASON_SENTENCES } from './reasons.js'
import type {
  KeyFacts,
  KeyRecord,
  LifecycleField,
  LifecycleUpdate,
  RecordClaim,
  StateFinding,
  UserFacts
} from './types.js'

/** A record's creation date and the key's CreateDate agree to the second. */
const SAME_KEY_TOLERANCE_MS = 1_000
/** The tool records a rotation at its replacement's CreateDate; a little slack for clocks. */
export const REPLACEMENT_TOLERANCE_MS = 5 * 60_000
/** Dates up to this far after `now` are clock noise, not a claim about the future. */
const FUTURE_TOLERANCE_MS = 5 * 60_000

export interface TrustedState {
  /** Per key id of this user: the fields that passed every check. */
  readonly trusted: Record<string, KeyRecord>
  readonly findings: StateFinding[]
  readonly notes: string[]
  /** In enforce mode: records of earlier versions to sign, and stale fields to drop. */
  readonly updates: LifecycleUpdate[]
}

const DATE_FIELDS = [
  'createdAt',
  'rotatedAt',
  'deactivatedAt',
  'firstSeenInactiveAt',
  'reactivationSeenAt',
  'rotationStartedAt',
  'warnedAt'
] as const satisfies readonly (keyof KeyRecord)[]

/** Fields that describe a key's current inactive period. */
const INACTIVE_PERIOD: readonly LifecycleField[] = ['deactivatedAt', 'firstSeenInactiveAt']

/**
 * Checks every record of one user against IAM's facts. A record is not state (a finding) when it
 * failed signature verification, is dated after `now`, contradicts the key's creation, or names
 * a replacement that is not the user's key or was not created when the record says.
 */
export function trustRecords(
  keys: readonly KeyFacts[],
  claims: Readonly<Record<string, RecordClaim>>,
  now: Date,
  legacy: Pick<UserFacts, 'legacySecret' | 'signedStateSince'> = {}
): TrustedState {
  const result: TrustedState = { trusted: {}, findings: [], notes: [], updates: [] }
  const byId = new Map(keys.map(key => [key.accessKeyId, key]))
  for (const [accessKeyId, claim] of Object.entries(claims)) {
    const key = byId.get(accessKeyId)
    if (claim.origin === 'unverified') {
      result.findings.push(finding(accessKeyId, claim.problem))
      continue
    }
    // A record of a key the user no longer has steers nothing (the key is gone): ignore it.
    if (key === undefined) continue
    const problem =
      inconsistency(key, claim, byId, now) ??
      (claim.origin === 'legacy' ? unconfirmedLegacy(claim.record, byId, legacy) : undefined)
    if (problem !== undefined) {
      result.findings.push(finding(accessKeyId, problem))
      continue
    }
    let record = claim.record
    if (claim.origin === 'legacy' && (record.deactivatedAt ?? record.firstSeenInactiveAt)) {
      // Nothing confirms when an unsigned inactive period began: it starts again, which only
      // ever delays a deletion.
      record = without(record, INACTIVE_PERIOD)
      result.notes.push(
        `${accessKeyId}: its unsigned record of an earlier version cannot date its inactive period; its recovery period starts again.`
      )
    }
    const replacement = record.replacementKeyId
    if (replacement !== undefined && !byId.has(replacement)) {
      // Signed, so the tool wrote it; the replacement has since been deleted by someone.
      record = without(record, ['rotatedAt', 'replacementKeyId'])
      result.notes.push(
        `${accessKeyId}: its recorded replacement ${replacement} no longer exists, so that rotation is over.`
      )
    }
    const stale = staleInactivePeriod(key, record)
    if (stale !== undefined) {
      record = without(record, INACTIVE_PERIOD)
      result.notes.push(stale)
      result.updates.push({
        accessKeyId,
        changes: {},
        clears: INACTIVE_PERIOD,
        cause: 'seen-active'
      })
    }
    result.trusted[accessKeyId] = record
    if (claim.origin === 'legacy') {
      result.updates.push({ accessKeyId, changes: {}, cause: 'migrated' })
    }
  }
  return result
}

/** Why a verified (or legacy) record contradicts IAM, or undefined when it agrees. */
function inconsistency(
  key: KeyFacts,
  claim: Extract<RecordClaim, { record: KeyRecord }>,
  keys: ReadonlyMap<string, KeyFacts>,
  now: Date
): string | undefined {
  const record = claim.record
  if (claim.origin === 'legacy' && record.createdAt === undefined) {
    return 'it is unsigned and has no creation date, so IAM cannot confirm it'
  }
  for (const field of DATE_FIELDS) {
    const at = record[field]
    if (at !== undefined && at.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
      return `its ${FIELD_NAMES[field]} date ${iso(at)} is in the future (now is ${iso(now)})`
    }
  }
  if (
    record.createdAt !== undefined &&
    Math.abs(record.createdAt.getTime() - key.createdAt.getTime()) > SAME_KEY_TOLERANCE_MS
  ) {
    return `its creation date ${iso(record.createdAt)} is not the key's (${iso(key.createdAt)})`
  }
  for (const field of DATE_FIELDS) {
    const at = record[field]
    if (at !== undefined && at.getTime() < key.createdAt.getTime() - SAME_KEY_TOLERANCE_MS) {
      return `its ${FIELD_NAMES[field]} date ${iso(at)} is before the key was created (${iso(key.createdAt)})`
    }
  }
  const replacementId = record.replacementKeyId
  if (replacementId === undefined) {
    return record.rotatedAt === undefined
      ? undefined
      : 'it has a rotation date but names no replacement key'
  }
  if (replacementId === key.accessKeyId) return 'it names the key itself as its replacement'
  const replacement = keys.get(replacementId)
  if (replacement === undefined) {
    // Only a signed record may name a key that has since gone (someone deleted it).
    return claim.origin === 'signed'
      ? undefined
      : `it names ${replacementId} as the replacement, which is not a key of this user`
  }
  if (record.rotatedAt === undefined) return `it names ${replacementId} but no rotation date`
  if (
    Math.abs(record.rotatedAt.getTime() - replacement.createdAt.getTime()) >
    REPLACEMENT_TOLERANCE_MS
  ) {
    return `its rotation date ${iso(record.rotatedAt)} does not match the creation of ${replacementId} (${iso(replacement.createdAt)})`
  }
  if (replacement.createdAt.getTime() <= key.createdAt.getTime()) {
    return `it names ${replacementId} as the replacement, which is not newer than the key`
  }
  return undefined
}

/**
 * An unsigned record is migrated only as far as something other than tags confirms it: its
 * creation date by IAM (checked above), a rotation by the earlier version's secret, which holds
 * the replacement and was written when the replacement was created. Fields that version never
 * wrote cannot be its.
 */
function unconfirmedLegacy(
  record: KeyRecord,
  keys: ReadonlyMap<string, KeyFacts>,
  { legacySecret, signedStateSince }: Pick<UserFacts, 'legacySecret' | 'signedStateSince'>
): string | undefined {
  if (
    record.reactivationSeenAt !== undefined ||
    record.reactivations !== undefined ||
    record.rotationStartedAt !== undefined
  ) {
    return 'it is unsigned, yet has fields only signed records carry'
  }
  const replacementId = record.replacementKeyId
  if (replacementId === undefined) return undefined
  const replacement = keys.get(replacementId)
  // Versions before signed state rotated before it began: a newer replacement is no rotation of
  // theirs (this also stops an unsigned record from undoing a signed one's later state).
  if (
    replacement !== undefined &&
    signedStateSince !== undefined &&
    replacement.createdAt.getTime() >= signedStateSince.getTime()
  ) {
    return `it is unsigned, but names ${replacementId}, created after signed state began (${iso(signedStateSince)}): no earlier version wrote it`
  }
  if (
    replacement === undefined ||
    legacySecret?.accessKeyId !== replacementId ||
    Math.abs(legacySecret.storedAt.getTime() - replacement.createdAt.getTime()) >
      REPLACEMENT_TOLERANCE_MS
  ) {
    return `it is unsigned, and the tool's secret does not confirm that ${replacementId} replaced this key`
  }
  return undefined
}

/**
 * An inactive key used after its recorded inactive period began was Active again since: the
 * record belongs to an earlier period (replayed, or a reactivation no run saw) and the recovery
 * clock starts afresh.
 */
function staleInactivePeriod(key: KeyFacts, record: KeyRecord): string | undefined {
  if (key.status !== 'Inactive' || key.lastUsed.kind !== 'date') return undefined
  const start = record.deactivatedAt ?? record.firstSeenInactiveAt
  if (start === undefined || key.lastUsed.at.getTime() <= start.getTime()) return undefined
  return `${key.accessKeyId}: used on ${iso(key.lastUsed.at)}, after its recorded inactive period began (${iso(start)}); its recovery period starts again.`
}

function without(record: KeyRecord, fields: readonly (keyof KeyRecord)[]): KeyRecord {
  const copy: { -readonly [F in keyof KeyRecord]?: KeyRecord[F] } = { ...record }
  for (const field of fields) delete copy[field]
  return copy
}

function finding(accessKeyId: string, problem: string): StateFinding {
  return {
    accessKeyId,
    reason: 'STATE_TAMPERED',
    message: REASON_SENTENCES.STATE_TAMPERED,
    problem
  }
}

const FIELD_NAMES: Record<(typeof DATE_FIELDS)[number], string> = {
  createdAt: 'creation',
  rotatedAt: 'rotation',
  deactivatedAt: 'deactivation',
  firstSeenInactiveAt: 'first-seen-inactive',
  reactivationSeenAt: 'reactivation',
  rotationStartedAt: 'rotation-start',
  warnedAt: 'warning'
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
