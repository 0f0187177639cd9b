import type { ActionType, KeyStatus, ReasonCode } from '../policy/index.js'
import type { Mode } from '../inputs.js'

// The plan.json schema of the public contract (action-contract.md). Dates are ISO strings so the
// same objects serialise as they are. Never holds a secret access key.

export const PLAN_SCHEMA_VERSION = 1

export type ActionResult = 'planned' | 'done' | 'skipped' | 'failed'

export interface PlanKey {
  accessKeyId: string
  status: KeyStatus
  createdAt: string
  ageDays: number
  /** ISO date, "never", or "unknown" when the lookup failed. */
  lastUsedAt: string
}

export interface PlanAction {
  type: ActionType
  accessKeyId: string
  reason: ReasonCode
  message: string
  dueAt?: string
  result: ActionResult
  error?: string
  newAccessKeyId?: string
  secretArn?: string
  /** The old key was used after its replacement was created (deactivating it may break a caller). */
  oldKeyUsedSinceRotation?: boolean
  /** Facts behind the action, in words: what blocks it and the fix. */
  detail?: string
  /**
   * WARN: no earlier enforce run announced this warning in its window (signed state), so its
   * entry mail is due (enforce mode); false once announced.
   */
  firstNotice?: boolean
}

/** The user's secret as checked this run: the tool's or not, and what drifted. */
export interface PlanSecret {
  name: string
  arn: string
  /** false: a secret with the user's name that this tool did not create; nothing is written to it. */
  owned: boolean
  /** Why it is not the tool's (owned false). */
  problem?: string
  /** Drift from what the tool made: planned (audit), done or failed (enforce). */
  repairs: PlanSecretRepair[]
}

export interface PlanSecretRepair {
  problem: string
  /** What the tool does about it. */
  remedy: string
  result: ActionResult
  error?: string
}

export interface PlanUser {
  userName: string
  exempt: boolean
  owner?: string
  keys: PlanKey[]
  actions: PlanAction[]
  /** Why something expected did not happen (e.g. a forced rotation already under way). */
  notes?: string[]
  /** Records of the tool that failed verification: ignored as state, reported (STATE_TAMPERED). */
  stateFindings?: PlanStateFinding[]
  /** The user could not be scanned (execution rule 7); the account's other users went on. */
  error?: string
  /** The user's secret, when it is not the tool's or has drifted from what the tool made. */
  secret?: PlanSecret
}

export interface PlanStateFinding {
  accessKeyId: string
  reason: 'STATE_TAMPERED'
  message: string
  problem: string
}

export type AccountStatus = 'ok' | 'failed' | 'skipped'

export interface PlanAccount {
  accountId: string
  accountName: string
  status: AccountStatus
  /**
   * A skipped account's reason, as a code: its AWS Organizations state (SUSPENDED,
   * PENDING_CLOSURE, PENDING_ACTIVATION, CLOSED) or NOT_REACHED (a stopped shard's).
   */
  reason?: string
  /** Why the account was not processed (failed or skipped), as a sentence. */
  error?: string
  /** Users and keys the scan saw; `users` lists only those with something to report. */
  usersScanned: number
  keysScanned: number
  users: PlanUser[]
}

export interface PlanTotals {
  /** Accounts in the plan, skipped ones included. */
  accounts: number
  failedAccounts: number
  /** Accounts in scope that were not scanned (not ACTIVE, or not reached by a stopped shard). */
  skippedAccounts: number
  usersScanned: number
  keysScanned: number
  exemptUsers: number
  /** Users the scan could not read, and records that failed verification. */
  failedUsers: number
  stateTampered: number
  /** Per action type: planned in audit mode, done in enforce mode. */
  rotated: number
  deactivated: number
  deleted: number
  warnings: number
  blocked: number
  /** Secret drift found: repairs planned (audit) or done (enforce). */
  secretRepairs: number
  /** Enforce mode: actions and secret repairs that failed, or were skipped because the keys changed. */
  failedActions: number
  skippedActions: number
  apiCalls: number
  throttledRetries: number
}

export interface Plan {
  schemaVersion: typeof PLAN_SCHEMA_VERSION
  runId: string
  mode: Mode
  generatedAt: string
  policy: { R: number; Gi: number; Gr: number; W: number }
  timeline: string
  accounts: PlanAccount[]
  /** Run-level findings that are not about one key (e.g. force-rotate entries matching no user). */
  warnings: string[]
  totals: PlanTotals
  /** The deploy-stacks phase: StackSet drift, accounts without the member role. */
  deployment?: PlanDeployment
  /** Emails: who was mailed, and which mails failed or were not sent. */
  notifications?: PlanNotifications
  /** GitHub issues for blocked rotations and failed accounts. */
  issues?: PlanIssues
  /** A shard job's plan (input shard): which shard of which run, for merge-from to check. */
  shard?: PlanShard
  /** The run was stopped (cancelled, timed out) before it finished: what it had is listed. */
  interrupted?: PlanInterrupted
  /** The workflow run this plan came from, for links in the reports. */
  runUrl?: string
  /** Every key in scope, counted: ages against the thresholds, changes due in the next 30 days. */
  outlook?: PlanOutlook
}

export interface PlanOutlook {
  /** Active keys by age, in buckets cut at the policy's thresholds (labels say the days). */
  activeKeyAges: { label: string; keys: number }[]
  inactiveKeys: number
  /** Changes the key policy makes, per day (YYYY-MM-DD) from the run's day, 30 days. */
  duePerDay: { day: string; rotate: number; deactivate: number; delete: number }[]
}

export interface PlanShard {
  /** K of K/N. */
  index: number
  /** N of K/N. */
  count: number
  /** GITHUB_RUN_ID of the workflow run: every shard of one run has the same. */
  workflowRunId: string
  /** The accounts this shard was given, in id order (its plan lists each one it finished). */
  accountIds: string[]
  /** The organization and its management account: the merge job reads the account addresses. */
  organizationId: string
  managementAccountId: string
}

export interface PlanInterrupted {
  signal: string
  /** The phase the run was in: scan, apply, notifications, issues, … */
  phase: string
  at: string
  /** Accounts in scope that are not in this plan: the run stopped before it reached them. */
  accountsNotReached: number
}

/**
 * A plan as the run holds it: the accounts may be streamed from disk (an AccountSpool) rather
 * than held in memory. Every report is written from this; a parsed plan.json is one as well.
 */
export type RunPlan = Omit<Plan, 'accounts'> & {
  accounts: Iterable<PlanAccount>
  /**
   * keys.csv's rows (CSV text without the header, account by account in report order): every
   * key in scope, streamed from disk (a KeySpool). Not part of plan.json.
   */
  keyRows?: Iterable<string>
}

export interface PlanDeployment {
  mode: 'check' | 'apply'
  stackSetName: string
  status: string
  differences: string[]
  missingInstances: string[]
  failedInstances: { account: string; region: string; reason: string }[]
  /**
   * Bootstrap stacks compared with what this release needs (central-stack-name): status, template
   * version, what falls short and the `aws cloudformation deploy` command that fixes it.
   */
  centralStacks?: {
    name: string
    status: string
    reason?: string
    templateVersion?: string
    problems?: string[]
    fix?: string
    /** IN_SYNC or DRIFTED, when drift detection ran. */
    drift?: string
  }[]
  messages: string[]
}

export interface PlanNotifications {
  sent: { to: string; subject: string }[]
  /** `fix`: what a person does about this class of failure, when it is known. */
  failed: { to: string; subject: string; error: string; fix?: string }[]
  unsent: { to: string; subject: string; reason: string; fix?: string }[]
  warnings: string[]
  /**
   * max-emails was reached: the mails over it (each also in `unsent`, reason "held back: …") and
   * the one notice about them to sender-email (also in `sent`, `failed` or `unsent`).
   */
  heldBack?: {
    maxEmails: number
    count: number
    notice: { to: string; subject: string; result: 'sent' | 'failed' | 'unsent' }
  }
}

export interface PlanIssues {
  opened: { number: number; title: string; url: string }[]
  updated: { number: number; title: string; url: string }[]
  closed: { number: number; title: string; url: string }[]
  unchanged: number
  /** Problems over max-new-issues: not opened or updated this run, listed in the roll-up. */
  deferred?: { key: string; title: string }[]
  /** The roll-up issue listing the deferred problems. */
  rollup?: { number: number; title: string; url: string }
  warnings: string[]
}
