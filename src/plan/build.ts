import { warningKey } from '../notify/announcements.js'
import type { KeyFacts, PlannedAction, PolicyParams } from '../policy/index.js'
import type { ScannedUser } from '../scan/account-scan.js'
import type {
  Plan,
  PlanAccount,
  PlanAction,
  PlanKey,
  PlanSecret,
  PlanTotals,
  PlanUser
} from './types.js'

const DAY_MS = 86_400_000

export function toPlanKey(key: KeyFacts, now: Date): PlanKey {
  return {
    accessKeyId: key.accessKeyId,
    status: key.status,
    createdAt: key.createdAt.toISOString(),
    ageDays: Math.floor((now.getTime() - key.createdAt.getTime()) / DAY_MS),
    lastUsedAt: key.lastUsed.kind === 'date' ? key.lastUsed.at.toISOString() : key.lastUsed.kind
  }
}

/** `firstNotices`: the warnings no earlier run announced (`announcements`), by `warningKey`. */
export function toPlanAction(
  action: PlannedAction,
  firstNotices?: ReadonlySet<string>
): PlanAction {
  return {
    type: action.type,
    accessKeyId: action.accessKeyId,
    reason: action.reason,
    message: action.message,
    ...(action.dueAt ? { dueAt: action.dueAt.toISOString() } : {}),
    ...(action.oldKeyUsedSinceRotation !== undefined
      ? { oldKeyUsedSinceRotation: action.oldKeyUsedSinceRotation }
      : {}),
    ...(action.detail ? { detail: action.detail } : {}),
    result: 'planned',
    ...(action.type === 'WARN' && firstNotices
      ? { firstNotice: firstNotices.has(warningKey(action.accessKeyId, action.reason)) }
      : {})
  }
}

export function toPlanUser(
  user: ScannedUser,
  now: Date,
  firstNotices?: ReadonlySet<string>
): PlanUser {
  const secret = planSecret(user)
  return {
    userName: user.userName,
    exempt: user.exempt,
    ...(user.owner ? { owner: user.owner } : {}),
    keys: user.facts.keys.map(key => toPlanKey(key, now)),
    actions: user.decision.actions.map(action => toPlanAction(action, firstNotices)),
    ...(user.decision.notes.length > 0 ? { notes: [...user.decision.notes] } : {}),
    ...(user.decision.stateFindings.length > 0
      ? { stateFindings: user.decision.stateFindings.map(finding => ({ ...finding })) }
      : {}),
    ...(secret ? { secret } : {})
  }
}

/** The secret part of a plan user: only a secret that is not the tool's or has drifted. */
function planSecret(user: ScannedUser): PlanSecret | undefined {
  const inspected = user.secret
  if (!inspected) return undefined
  const { snapshot, check } = inspected
  if (!check.owned) {
    return {
      name: snapshot.name,
      arn: snapshot.arn,
      owned: false,
      problem: check.reason,
      repairs: []
    }
  }
  if (check.problems.length === 0) return undefined
  return {
    name: snapshot.name,
    arn: snapshot.arn,
    owned: true,
    repairs: check.problems.map(problem => ({
      problem: problem.problem,
      remedy: problem.remedy,
      result: 'planned'
    }))
  }
}

/** A user the scan could not read: named, with the error, and nothing planned. */
export function failedPlanUser(userName: string, error: string): PlanUser {
  return { userName, exempt: false, keys: [], actions: [], error }
}

export function policySymbols(params: PolicyParams): Plan['policy'] {
  return {
    R: params.rotationDays,
    Gi: params.installationGraceDays,
    Gr: params.recoveryGraceDays,
    W: params.warningDays
  }
}

/**
 * Counts of the plan. In audit mode an action counts as planned; in enforce mode a ROTATE,
 * DEACTIVATE or DELETE counts only when done.
 */
export function computeTotals(
  accounts: Iterable<PlanAccount>,
  enforce: boolean,
  calls: { apiCalls: number; throttledRetries: number }
): PlanTotals {
  const totals = emptyTotals(calls)
  for (const account of accounts) addAccountTotals(totals, account, enforce)
  return totals
}

export function emptyTotals(calls: { apiCalls: number; throttledRetries: number }): PlanTotals {
  return {
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
    ...calls
  }
}

/** Adds one account's counts to `totals`, so totals can follow a stream of accounts. */
export function addAccountTotals(totals: PlanTotals, account: PlanAccount, enforce: boolean): void {
  totals.accounts++
  if (account.status === 'failed') totals.failedAccounts++
  if (account.status === 'skipped') totals.skippedAccounts++
  totals.usersScanned += account.usersScanned
  totals.keysScanned += account.keysScanned
  for (const user of account.users) {
    if (user.exempt) totals.exemptUsers++
    if (user.error !== undefined) totals.failedUsers++
    totals.stateTampered += user.stateFindings?.length ?? 0
    for (const repair of user.secret?.repairs ?? []) {
      if (repair.result === 'failed') totals.failedActions++
      if (!enforce || repair.result === 'done') totals.secretRepairs++
    }
    for (const action of user.actions) {
      if (action.result === 'failed') totals.failedActions++
      if (action.result === 'skipped') totals.skippedActions++
      const counts =
        !enforce || action.result === 'done' || action.type === 'WARN' || action.type === 'BLOCKED'
      if (!counts) continue
      switch (action.type) {
        case 'ROTATE':
          totals.rotated++
          break
        case 'DEACTIVATE':
          totals.deactivated++
          break
        case 'DELETE':
          totals.deleted++
          break
        case 'WARN':
          totals.warnings++
          break
        case 'BLOCKED':
          totals.blocked++
          break
      }
    }
  }
}
