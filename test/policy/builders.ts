import {
  evaluateUser,
  type KeyFacts,
  type KeyRecord,
  type RecordClaim,
  type KeyStatus,
  type LastUsed,
  type PlannedAction,
  type PolicyParams,
  type UserDecision,
  type UserFacts
} from '../../src/policy/index.js'

// Small builders so each test row reads like a line of key-policy.md. Key ids are made up
// and short on purpose: no real-looking access keys in fixtures.

export const DAY_MS = 86_400_000
export const SECOND_MS = 1_000
export const NOW = new Date('2025-06-01T12:00:00.000Z')

/** The moment `days` days (minus `lessSeconds` seconds) before NOW: age exactly `days` d − s. */
export function ago(days: number, lessSeconds = 0): Date {
  return new Date(NOW.getTime() - days * DAY_MS + lessSeconds * SECOND_MS)
}

/** The moment `days` days (plus `seconds` seconds) after NOW. */
export function inDays(days: number, seconds = 0): Date {
  return new Date(NOW.getTime() + days * DAY_MS + seconds * SECOND_MS)
}

export const NEVER: LastUsed = { kind: 'never' }
export const UNKNOWN: LastUsed = { kind: 'unknown' }
export function usedAt(at: Date): LastUsed {
  return { kind: 'date', at }
}

export const DEFAULT_PARAMS: PolicyParams = {
  rotationDays: 90,
  installationGraceDays: 10,
  recoveryGraceDays: 10,
  warningDays: 7,
  conflictResolution: 'issue',
  oldKeyInUse: 'deactivate',
  oldKeyQuietDays: 2
}

export function key(
  accessKeyId: string,
  status: KeyStatus,
  createdAt: Date,
  lastUsed: LastUsed = usedAt(ago(1))
): KeyFacts {
  return { accessKeyId, status, createdAt, lastUsed }
}

export function active(accessKeyId: string, createdAt: Date, lastUsed?: LastUsed): KeyFacts {
  return key(accessKeyId, 'Active', createdAt, lastUsed)
}

/**
 * An inactive key, by default last used 60 days ago: before the inactive periods the tests
 * record (a key used after its recorded deactivation was Active since, and its clock restarts).
 */
export function inactive(accessKeyId: string, createdAt: Date, lastUsed?: LastUsed): KeyFacts {
  return key(accessKeyId, 'Inactive', createdAt, lastUsed ?? usedAt(ago(60)))
}

export interface UserOptions {
  /** State the tool recorded and signed (it passes verification). */
  lifecycle?: Record<string, KeyRecord>
  /** Records as read back, for the cases where where they came from matters. */
  records?: Record<string, RecordClaim>
  forced?: boolean
  exempt?: boolean
  storedSecretKeyId?: string
}

/** Signed records, as the scan hands them to the policy after their signatures verified. */
export function signed(lifecycle: Record<string, KeyRecord>): Record<string, RecordClaim> {
  return Object.fromEntries(
    Object.entries(lifecycle).map(([id, record]) => [id, { origin: 'signed', record }])
  )
}

export function user(keys: KeyFacts[], options: UserOptions = {}): UserFacts {
  return {
    userName: 'ci-bot',
    keys,
    records: { ...signed(options.lifecycle ?? {}), ...options.records },
    exempt: options.exempt ?? false,
    forced: options.forced ?? false,
    ...(options.storedSecretKeyId === undefined
      ? {}
      : { storedSecretKeyId: options.storedSecretKeyId })
  }
}

/** An action as one compact, comparable line: type, key, reason and (WARN) due date. */
export function line(action: PlannedAction): string {
  const due = action.dueAt === undefined ? '' : ` due ${action.dueAt.toISOString()}`
  return `${action.type} ${action.accessKeyId} ${action.reason}${due}`
}

/**
 * The policy as the scan drives it (account-scan.ts) for a user who can read its new key: when
 * the decision waits for that check, it is evaluated again with the answer "readable".
 */
export function decide(facts: UserFacts, params: PolicyParams, now: Date): UserDecision {
  const decision = evaluateUser(facts, params, now)
  const replacement = decision.awaitsAccessCheck
  if (replacement === undefined || facts.newKeyAccess !== undefined) return decision
  return evaluateUser(
    { ...facts, newKeyAccess: { accessKeyId: replacement, readable: true } },
    params,
    now
  )
}
