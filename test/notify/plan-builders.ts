import type { Mode } from '../../src/inputs.js'
import type { ActionType, ReasonCode } from '../../src/policy/index.js'
import { REASON_SENTENCES } from '../../src/policy/index.js'
import type {
  Plan,
  PlanAccount,
  PlanAction,
  PlanKey,
  PlanTotals,
  PlanUser
} from '../../src/plan/types.js'

// Plans built by hand, shaped like the engine's. Key ids are made up and short on purpose: no
// real-looking access keys in fixtures.

export const DAY_MS = 86_400_000
export const NOW = new Date('2025-06-01T09:00:00.000Z')

export function inDays(days: number, from: Date = NOW): string {
  return new Date(from.getTime() + days * DAY_MS).toISOString()
}

export function key(
  accessKeyId: string,
  ageDays: number,
  options: { status?: 'Active' | 'Inactive'; lastUsedAt?: string; createdAt?: string } = {}
): PlanKey {
  return {
    accessKeyId,
    status: options.status ?? 'Active',
    createdAt: options.createdAt ?? inDays(-ageDays),
    ageDays,
    lastUsedAt: options.lastUsedAt ?? inDays(-1)
  }
}

export function action(
  type: ActionType,
  accessKeyId: string,
  reason: ReasonCode,
  extra: Partial<PlanAction> = {}
): PlanAction {
  return {
    type,
    accessKeyId,
    reason,
    message: REASON_SENTENCES[reason],
    result: 'planned',
    ...extra
  }
}

export function warn(accessKeyId: string, reason: ReasonCode, dueInDays: number): PlanAction {
  return action('WARN', accessKeyId, reason, { dueAt: inDays(dueInDays) })
}

export function user(
  userName: string,
  keys: PlanKey[],
  actions: PlanAction[],
  owner?: string
): PlanUser {
  return { userName, exempt: false, ...(owner ? { owner } : {}), keys, actions }
}

export function account(
  accountId: string,
  accountName: string,
  users: PlanUser[],
  status: PlanAccount['status'] = 'ok',
  error?: string
): PlanAccount {
  return {
    accountId,
    accountName,
    status,
    ...(error ? { error } : {}),
    usersScanned: users.length,
    keysScanned: users.reduce((sum, u) => sum + u.keys.length, 0),
    users
  }
}

const EMPTY_TOTALS: PlanTotals = {
  accounts: 0,
  failedAccounts: 0,
  skippedAccounts: 0,
  usersScanned: 0,
  keysScanned: 0,
  exemptUsers: 0,
  failedUsers: 0,
  stateTampered: 0,
  rotated: 0,
  deactivated: 0,
  deleted: 0,
  warnings: 0,
  blocked: 0,
  secretRepairs: 0,
  failedActions: 0,
  skippedActions: 0,
  apiCalls: 0,
  throttledRetries: 0
}

export function plan(mode: Mode, accounts: PlanAccount[], now: Date = NOW): Plan {
  return {
    schemaVersion: 1,
    runId: '1234-1',
    mode,
    generatedAt: now.toISOString(),
    policy: { R: 90, Gi: 10, Gr: 10, W: 7 },
    timeline: 'rotate at 90 d · deactivate old key at 100 d · delete at 110 d · warn 7 d ahead',
    accounts,
    warnings: [],
    totals: { ...EMPTY_TOTALS, accounts: accounts.length }
  }
}

export const DEV = { id: '222222222222', name: 'dev', email: 'dev@example.com' }
export const PROD = { id: '333333333333', name: 'prod', email: 'prod@example.com' }
