import type { IAMClient } from '@aws-sdk/client-iam'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import pLimit from 'p-limit'
import { applyUser } from './apply/apply-user.js'
import type { AwsClientFactory, Credentials } from './aws/clients.js'
import type { RoleSessions } from './aws/sessions.js'
import type { Config } from './inputs.js'
import type { ProxySettings } from './proxy/index.js'
import {
  listAccountsInScope,
  unknownParentsMessage,
  type OrgAccount,
  type SkippedAccount
} from './inventory/accounts.js'
import { failedPlanUser, policySymbols, toPlanKey, toPlanUser } from './plan/build.js'
import { nextAction, type InventoryUser } from './plan/key-inventory.js'
import type { KeyInventory, PlanLedger } from './plan/ledger.js'
import { KeyOutlook } from './plan/outlook.js'
import { skippedStates } from './plan/skipped.js'
import {
  PLAN_SCHEMA_VERSION,
  type RunPlan,
  type PlanAccount,
  type PlanAction,
  type PlanSecretRepair
} from './plan/types.js'
import { timelineText } from './policy/index.js'
import { announcements } from './notify/announcements.js'
import { KeySpool } from './report/key-spool.js'
import { accountKeyRows, keysCsvRows, unscannedRow } from './report/keys-csv.js'
import { scanAccount, type ScanSecrets, type ScannedUser } from './scan/account-scan.js'
import { whyUserCannotRead } from './secrets/access.js'
import { readOwnSecretPolicyArn } from './secrets/health.js'
import { replicaKeyProblem } from './secrets/replica-key-check.js'
import { replicaKeyMap } from './secrets/replica-keys.js'
import { SecretStore, type InspectedSecret } from './secrets/store.js'
import type { StateSigner, StateVerifier } from './state/signing.js'
import { errorMessage } from './util/errors.js'
import { plural } from './util/plural.js'

export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
  group<T>(name: string, body: () => Promise<T>): Promise<T>
}

export interface EngineDeps {
  readonly config: Config
  readonly factory: AwsClientFactory
  readonly sessions: RoleSessions
  /** Central role credentials; undefined means the SDK's ambient chain. */
  readonly central: AwsCredentialIdentityProvider | undefined
  /** The run's time: AWS's, when the run began (execution rule 6). */
  readonly now: Date
  /** AWS's time now, for dating what the run changes as it acts. */
  readonly clock: () => Date
  /** Verifies the tool's records; signs new ones (only the write role may). */
  readonly state: StateVerifier & StateSigner
  readonly runId: string
  readonly log: Logger
  /** Run-level findings for the plan (a runner clock far from AWS's). */
  readonly runWarnings?: readonly string[]
  readonly mask: (secret: string) => void
  /** HTTPS_PROXY/HTTP_PROXY/NO_PROXY of the run, as the factory has them: for the GitHub client. */
  readonly proxy?: ProxySettings
  /** Fires when the job is cancelled or times out: no further account, user, mail or issue. */
  readonly stop?: AbortSignal
}

/** What the run keeps per account after the scan (the plan itself is in the ledger). */
interface AccountOutcome {
  readonly account: OrgAccount
  readonly scanned: boolean
  /** Users named in force-rotate that exist in this account. */
  readonly forcedUsersFound: readonly string[]
  /** Records of the account that failed verification, as plan warnings. */
  readonly tamperedWarnings: readonly string[]
}

/**
 * Enforce mode: an account with changes to make, held until they are made. Only these keep
 * their scan facts, so memory follows the work to do, not the size of the organization.
 */
interface AccountWork {
  readonly account: OrgAccount
  readonly plan: PlanAccount
  /** Each user with changes, with its plan actions (updated in place as they are carried out). */
  readonly users: readonly UserWork[]
}

export interface UserWork {
  readonly user: ScannedUser
  readonly actions: PlanAction[]
  /** Drift of the user's secret, put right before its actions. */
  readonly repairs: PlanSecretRepair[]
}

/** The error of a change a stopped run did not see through (not started, or not confirmed). */
export function stoppedBeforeChange(signal: string): string {
  return `not finished: the run was stopped (${signal}) before this change was confirmed; the next run reads the keys again and plans anew.`
}

/**
 * The rotation run: scan and plan every account → (enforce) apply the plan. Builds the whole
 * plan before acting on it. A failure in one account never stops the others. Each account goes
 * to `ledger` once finished. When `deps.stop` fires, no further account or user is started.
 */
export async function runRotation(
  deps: EngineDeps,
  accounts: readonly OrgAccount[],
  ledger: PlanLedger,
  progress: {
    /** The run enters a phase. */
    readonly onPhase?: (phase: 'scan' | 'apply') => void
    /** Run-level warnings as the scan finds them (for a plan written if the run is stopped). */
    readonly found?: string[]
  } = {}
): Promise<RunPlan> {
  const { config, log } = deps
  const secrets = secretStore(deps)
  const replicaKeys = replicaKeyChecks(deps)
  // Central secrets are all written by the secrets role: its replica keys are checked once, before
  // anything is changed. A missing one is a run warning, and fails every rotation (no key is made
  // that cannot be stored); deactivations and deletions, which need no new secret, go on.
  const replicaKeyWarnings: string[] = []
  if (config.mode === 'enforce' && config.secrets.location === 'central') {
    const problem = await replicaKeys(config.secrets.accountId ?? '')
    if (problem !== undefined) {
      const warning = `${problem}. Until then no key is rotated; deactivations and deletions go on.`
      log.warning(warning)
      replicaKeyWarnings.push(warning)
    }
  }
  const { outcomes, work } = await log.group(
    `Scan and plan: ${plural(accounts.length, 'account')}`,
    () => scanAll(deps, accounts, secrets, ledger, progress.found ?? [])
  )
  // A stopped scan saw only part of the organization: no "matches no user" verdicts on it.
  const forceWarnings = deps.stop?.aborted ? [] : unmatchedForceRotations(config, outcomes)
  for (const warning of forceWarnings) log.warning(warning)
  const warnings = [
    ...(deps.runWarnings ?? []),
    ...replicaKeyWarnings,
    ...outcomes.flatMap(outcome => outcome.tamperedWarnings),
    ...forceWarnings
  ]

  if (deps.stop?.aborted) {
    log.info('The run was stopped: no change is made.')
  } else if (config.mode === 'enforce') {
    progress.onPhase?.('apply')
    await log.group('Apply: enforce mode', () => applyAll(deps, work, secrets, ledger, replicaKeys))
  } else {
    log.info('Audit mode: nothing in AWS is changed.')
  }
  return runPlan(deps, ledger, warnings)
}

/** The run's plan as it stands: the ledger's accounts, with the head of this run. */
export function runPlan(
  deps: Pick<EngineDeps, 'config' | 'runId' | 'now' | 'factory'>,
  ledger: PlanLedger,
  warnings: readonly string[]
): RunPlan {
  const { config } = deps
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    runId: deps.runId,
    mode: config.mode,
    generatedAt: deps.now.toISOString(),
    policy: policySymbols(config.policy),
    timeline: timelineText(config.policy),
    accounts: ledger.accounts,
    warnings: [...warnings],
    totals: ledger.totals({
      apiCalls: deps.factory.metrics.total(),
      throttledRetries: deps.factory.metrics.throttled
    }),
    ...(ledger.inventory
      ? { outlook: ledger.inventory.outlook.toPlan(), keyRows: ledger.inventory.rows }
      : {})
  }
}

/**
 * Where the scan keeps every key it sees (the ledger's inventory): keys.csv's rows in a spool at
 * `path` (account order `order`), and the outlook of the run's policy as of `now`.
 */
export function keyInventory(
  config: Pick<Config, 'policy'>,
  now: Date,
  path: string,
  order: readonly string[]
): KeyInventory {
  return {
    rows: new KeySpool(path, order),
    outlook: new KeyOutlook(policySymbols(config.policy), now)
  }
}

export interface Caller {
  readonly accountId: string
  readonly arn: string
}

/** Who the central credentials are. */
export async function whoAmI(deps: Pick<EngineDeps, 'factory' | 'central'>): Promise<Caller> {
  const identity = await deps.factory.sts(deps.central).send(new GetCallerIdentityCommand({}))
  return { accountId: identity.Account ?? '', arn: identity.Arn ?? '' }
}

/**
 * Credentials that can read the organization: always the list-accounts role in the management
 * account, also when the central role lives there, so that the central role never needs an
 * Organizations permission of its own.
 */
export function managementCredentials(deps: Pick<EngineDeps, 'config' | 'sessions'>): Credentials {
  return deps.sessions.credentials(
    deps.config.managementAccountId,
    deps.config.listAccountsRoleName
  )
}

export interface Scope {
  /** The ACTIVE accounts to process. */
  readonly accounts: OrgAccount[]
  /** Accounts in scope that are not ACTIVE: in the plan as skipped, never signed in to. */
  readonly skipped: SkippedAccount[]
  /** Scope inputs naming what the organization does not have, for the plan's warnings. */
  readonly warnings: string[]
}

/**
 * The accounts in scope: organization check, OU/account filters, shard, then the ACTIVE ones
 * apart from the skipped. Every id of a scope input the organization lacks is named; when the
 * inputs leave nothing to determine the scope from, it throws before any account is processed.
 */
export async function takeInventory(deps: EngineDeps): Promise<Scope> {
  const { config, factory, log } = deps
  const organizations = factory.organizations(managementCredentials(deps))
  const inventory = await listAccountsInScope(organizations, config.organizationId, config)
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    log.warning(message)
  }
  if (inventory.unknownOrganizationalUnits.length > 0) {
    warn(
      `${unknownParentsMessage('organizational-units', inventory.unknownOrganizationalUnits, config.organizationId)}: the other units are in scope.`
    )
  }
  for (const [input, ids] of [
    ['accounts', inventory.unknownAccounts],
    ['exclude-accounts', inventory.unknownExcludedAccounts]
  ] as const) {
    for (const id of ids) {
      warn(
        `Account ${id} (input ${input}) is not an account of ${config.organizationId}: check the id (aws organizations list-accounts).`
      )
    }
  }
  if (inventory.managementAccountLeftOut) {
    const message = `The management account ${config.managementAccountId} is out of scope (include-management-account: false): its IAM users are not scanned.`
    if (config.accounts.includes(config.managementAccountId)) log.warning(message)
    else log.info(message)
  }
  const { skipped } = inventory
  for (const account of skipped) {
    log.info(`Account ${account.id} ${account.name} is ${account.state}: skipped, not scanned.`)
  }
  const shard = config.shard ? ` (shard ${config.shard.index}/${config.shard.count})` : ''
  const states = skipped.length > 0 ? ` (${skippedStates(skipped.map(a => a.state))})` : ''
  log.info(
    `${plural(inventory.accounts.length, 'active account')} in scope, ${skipped.length} skipped${states}${shard}; ` +
      `${plural(inventory.organizationAccountCount, 'account')} in ${config.organizationId}.`
  )
  return { accounts: inventory.accounts, skipped, warnings }
}

/**
 * Puts the skipped accounts into the plan and keys.csv before the scan: each with its state as
 * the reason, so that "not scanned because closed" never reads as "forgotten".
 */
export function recordSkippedAccounts(
  ledger: PlanLedger,
  skipped: readonly SkippedAccount[]
): void {
  for (const account of skipped) {
    const plan = skippedAccountPlan(account)
    ledger.finish(plan)
    ledger.inventory?.rows.add(
      account.id,
      keysCsvRows([
        unscannedRow(
          { accountId: account.id, accountName: account.name },
          `skipped: ${plan.error ?? account.state}`
        )
      ])
    )
  }
}

function skippedAccountPlan(account: SkippedAccount): PlanAccount {
  return {
    accountId: account.id,
    accountName: account.name,
    status: 'skipped',
    reason: account.state,
    error: `the account is ${account.state} in AWS Organizations: it is not signed in to or scanned until it is ACTIVE again.`,
    usersScanned: 0,
    keysScanned: 0,
    users: []
  }
}

async function scanAll(
  deps: EngineDeps,
  accounts: readonly OrgAccount[],
  secrets: SecretStore,
  ledger: PlanLedger,
  found: string[]
): Promise<{ outcomes: AccountOutcome[]; work: AccountWork[] }> {
  const { config, factory, sessions, log } = deps
  const limit = pLimit(config.maxConcurrency)
  const held: AccountWork[] = []
  let done = 0
  const outcomes = await Promise.all(
    accounts.map(account =>
      limit(async (): Promise<AccountOutcome> => {
        if (deps.stop?.aborted) {
          return { account, scanned: false, forcedUsersFound: [], tamperedWarnings: [] }
        }
        const started = Date.now()
        let outcome: AccountOutcome
        let plan: PlanAccount
        try {
          const iam = factory.iam(sessions.credentials(account.id, config.chain.memberRoleName))
          const scan = await scanAccount(iam, {
            accountId: account.id,
            exemptionGroup: config.exemptionGroup,
            userPath: config.userPath,
            ...(config.notify.ownerTag ? { ownerTag: config.notify.ownerTag } : {}),
            policy: config.policy,
            now: deps.now,
            verifier: deps.state,
            signedStateSince: deps.state.createdAt,
            isForced: userName => isForced(config, account.id, userName),
            secrets: scanSecrets(secrets, account.id, iam, sessions.partition),
            warn: message => log.warning(message)
          })
          const tamperedWarnings = scan.users.flatMap(user =>
            user.decision.stateFindings.map(finding =>
              tamperedStateWarning(account.id, user.userName, finding)
            )
          )
          for (const warning of tamperedWarnings) log.warning(warning)
          found.push(...tamperedWarnings)
          const users = scan.users.map(user => withAnnouncements(user, config, deps.now))
          const planUsers = users.map(({ user, first }) => toPlanUser(user, deps.now, first))
          plan = {
            accountId: account.id,
            accountName: account.name,
            status: 'ok',
            usersScanned: scan.usersScanned,
            keysScanned: scan.keysScanned,
            users: [
              ...planUsers,
              ...scan.failedUsers.map(user => failedPlanUser(user.userName, user.error))
            ]
          }
          const work =
            config.mode === 'enforce'
              ? users.flatMap(({ user }, index) => {
                  const actions = planUsers[index]?.actions ?? []
                  const repairs = planUsers[index]?.secret?.repairs ?? []
                  return hasChanges(user, actions) || repairs.length > 0
                    ? [{ user, actions, repairs }]
                    : []
                })
              : []
          if (ledger.inventory) {
            takeStock(ledger.inventory, account, scan.inventory, scan.failedUsers, config, deps.now)
          }
          if (work.length > 0) {
            ledger.hold(plan)
            held.push({ account, plan, users: work })
          } else {
            ledger.finish(plan)
            sessions.release(account.id, config.chain.memberRoleName)
          }
          outcome = {
            account,
            scanned: true,
            forcedUsersFound: scan.forcedUsersFound,
            tamperedWarnings
          }
        } catch (error) {
          plan = failedAccount(account, errorMessage(error))
          ledger.inventory?.rows.add(
            account.id,
            keysCsvRows([
              unscannedRow(
                { accountId: account.id, accountName: account.name },
                `account could not be scanned: ${errorMessage(error)}`
              )
            ])
          )
          ledger.finish(plan)
          sessions.release(account.id, config.chain.memberRoleName)
          // Annotated once, with the others, when the run is published (see accountFailureAnnotations).
          outcome = { account, scanned: false, forcedUsersFound: [], tamperedWarnings: [] }
        }
        done++
        log.info(
          `[${done}/${accounts.length}] ${account.id} ${account.name}: ${describeOutcome(plan)} (${seconds(started)})`
        )
        return outcome
      })
    )
  )
  return { outcomes, work: held }
}

/**
 * Every key of a scanned account into the inventory: its keys.csv rows, and for each key the
 * policy evaluates (exempt users' keys are out of its reach) its age and next change into the
 * outlook.
 */
function takeStock(
  inventory: KeyInventory,
  account: OrgAccount,
  users: readonly InventoryUser[],
  failedUsers: readonly { userName: string; error: string }[],
  config: Pick<Config, 'policy'>,
  now: Date
): void {
  const { policy } = config
  const cells = { accountId: account.id, accountName: account.name }
  inventory.rows.add(
    account.id,
    keysCsvRows(accountKeyRows(cells, users, failedUsers, policy, now))
  )
  for (const user of users) {
    if (user.exempt) continue
    for (const key of user.keys) {
      inventory.outlook.addKey(key.status, toPlanKey(key, now).ageDays)
      const next = nextAction(key, user, policy, now)
      if (next.at && next.type !== 'none') inventory.outlook.addDue(next.type, next.at)
    }
  }
}

/**
 * The user with the record of its newly announced warnings added to the state planning writes
 * (enforce persists it), and which warnings are new: their entry mail is due.
 */
function withAnnouncements(
  user: ScannedUser,
  config: Config,
  now: Date
): { user: ScannedUser; first: ReadonlySet<string> } {
  const { first, updates } = announcements(user.decision, policySymbols(config.policy), now)
  if (updates.length === 0) return { user, first }
  const decision = {
    ...user.decision,
    lifecycleUpdates: [...user.decision.lifecycleUpdates, ...updates]
  }
  return { user: { ...user, decision }, first }
}

async function applyAll(
  deps: EngineDeps,
  work: readonly AccountWork[],
  secrets: SecretStore,
  ledger: PlanLedger,
  replicaKeys: ReplicaKeyCheck
): Promise<void> {
  const { config, factory, sessions, log } = deps
  const limit = pLimit(config.maxConcurrency)
  log.info(`${plural(work.length, 'account')} with changes to make.`)
  let done = 0
  await Promise.all(
    work.map(({ account, plan, users }) =>
      limit(async () => {
        // A stopped run leaves the account held: the interruption writes it as it stands.
        if (deps.stop?.aborted) return
        const started = Date.now()
        const iam = factory.iam(sessions.credentials(account.id, config.chain.memberRoleName))
        // Before the first key is made for a secret here: a replica key missing in this account
        // fails its rotations instead of making keys that cannot be stored.
        const replicaKeyProblem = users.some(writesReplicas)
          ? await replicaKeys(account.id)
          : undefined
        const ctx = {
          ...(replicaKeyProblem === undefined ? {} : { replicaKeyProblem }),
          accountId: account.id,
          iam,
          secrets,
          policy: config.policy,
          now: deps.now,
          clock: deps.clock,
          signer: deps.state,
          partition: sessions.partition,
          mask: deps.mask
        }
        for (const { user, actions, repairs } of users) {
          if (deps.stop?.aborted) return
          try {
            await applyUser(ctx, user, actions, repairs)
          } catch (error) {
            // applyUser records its own failures; this guards the other users against a bug.
            for (const action of actions) {
              if (
                action.result === 'planned' &&
                action.type !== 'WARN' &&
                action.type !== 'BLOCKED'
              ) {
                action.result = 'failed'
                action.error = errorMessage(error)
              }
            }
          }
        }
        ledger.finish(plan)
        sessions.release(account.id, config.chain.memberRoleName)
        done++
        const actions = plan.users.flatMap(user => user.actions)
        const count = (result: string) => actions.filter(a => a.result === result).length
        log.info(
          `[${done}/${work.length}] ${account.id} ${account.name}: ` +
            `${count('done')} done, ${count('failed')} failed, ${count('skipped')} skipped (${seconds(started)})`
        )
      })
    )
  )
}

/**
 * The scan's view of one account's secrets: listed once (one call per 100), then each user's
 * read and judged, a few at a time; IAM (the member role) answers whether its user may read it.
 */
function scanSecrets(
  store: SecretStore,
  accountId: string,
  iam: IAMClient,
  partition: string
): ScanSecrets {
  const grant = readOwnSecretPolicyArn(partition, accountId)
  return {
    async inspectAll(users) {
      const listed = await store.listAccountSecrets(accountId)
      const limit = pLimit(SECRET_READS_PER_ACCOUNT)
      const results = new Map<string, InspectedSecret | Error>()
      await Promise.all(
        users.map(user =>
          limit(async () => {
            const secret = listed.get(user.userName)
            if (secret === undefined) return
            const expected = store.expectation({
              accountId,
              userName: user.userName,
              userArn: user.arn,
              readGrantAttached: user.attachedPolicyArns.includes(grant)
            })
            try {
              results.set(user.userName, await store.inspect(expected, secret))
            } catch (error) {
              results.set(user.userName, error instanceof Error ? error : new Error(String(error)))
            }
          })
        )
      )
      return results
    },
    currentVersionDate: arn => store.currentVersionDate(accountId, arn),
    whyUserCannotRead: (user, snapshot) => whyUserCannotRead(iam, user.arn, snapshot)
  }
}

/**
 * The replica key problem, if any, of the account that holds a member account's secrets (asked
 * once per such account and run).
 */
type ReplicaKeyCheck = (memberAccountId: string) => Promise<string | undefined>

/**
 * Replica keys derived from a multi-Region kms-key-id, checked with the role that writes the
 * secrets, where it writes them: the secrets role in secrets-account-id (central), or each member
 * account's member role before its first write (member: the key a bare mrk- id names, and what
 * that role may use, are the account's). Once per account and run: one DescribeKey per replica
 * region. Nothing to check (no multi-Region key): no call.
 */
function replicaKeyChecks(deps: EngineDeps): ReplicaKeyCheck {
  const { config, factory, sessions } = deps
  const { kmsKeyId, replicaKeys, location } = config.secrets
  const derived = replicaKeys.filter(key => key.source === 'multi-region-key')
  const asked = new Map<string, Promise<string | undefined>>()
  return memberAccountId => {
    if (kmsKeyId === undefined || derived.length === 0) return Promise.resolve(undefined)
    const [writerAccountId, roleName] =
      location === 'central' && config.secrets.accountId
        ? [config.secrets.accountId, config.chain.secretsRoleName]
        : [memberAccountId, config.chain.memberRoleName]
    let answer = asked.get(writerAccountId)
    if (!answer) {
      const credentials = sessions.credentials(writerAccountId, roleName)
      answer = replicaKeyProblem(region => factory.kms(credentials, region), derived, {
        kmsKeyId,
        writer: `role ${roleName} in account ${writerAccountId}`
      })
      asked.set(writerAccountId, answer)
    }
    return answer
  }
}

/** The user's changes write a secret with replicas: a rotation, or replicas to add. */
function writesReplicas(work: UserWork): boolean {
  const check = work.user.secret?.check
  return (
    work.actions.some(action => action.type === 'ROTATE') ||
    (check?.owned === true &&
      check.problems.some(p => p.repair.kind === 'replicas' && p.repair.add.length > 0))
  )
}

/** Secret reads in flight per account: the per-secret check costs a call each, so overlap them. */
const SECRET_READS_PER_ACCOUNT = 4

/**
 * Secrets Manager clients kept at once: the accounts in flight. A client per account for the
 * whole run would hold tens of kilobytes per account (the memory of an organization's size).
 */
const SECRET_CLIENTS_KEPT = 64

function secretStore(deps: EngineDeps): SecretStore {
  const { config, factory, sessions } = deps
  // Most recently used last; the oldest goes once more are kept than accounts are in flight.
  const clients = new Map<string, SecretsManagerClient>()
  return new SecretStore({
    namePrefix: config.secrets.namePrefix,
    ...(config.secrets.kmsKeyId ? { kmsKeyId: config.secrets.kmsKeyId } : {}),
    replicaRegions: config.secrets.replicaRegions,
    replicaKmsKeyIds: replicaKeyMap(config.secrets.replicaKeys),
    verifier: deps.state,
    ...(config.mode === 'enforce' ? { signer: deps.state } : {}),
    clientFor: memberAccountId => {
      const [accountId, roleName] =
        config.secrets.location === 'central' && config.secrets.accountId
          ? [config.secrets.accountId, config.chain.secretsRoleName]
          : [memberAccountId, config.chain.memberRoleName]
      const client =
        clients.get(accountId) ?? factory.secretsManager(sessions.credentials(accountId, roleName))
      clients.delete(accountId)
      clients.set(accountId, client)
      const oldest = clients.keys().next().value
      if (clients.size > Math.max(SECRET_CLIENTS_KEPT, 2 * config.maxConcurrency) && oldest) {
        clients.delete(oldest)
      }
      return client
    }
  })
}

export function isForced(config: Config, accountId: string, userName: string): boolean {
  return config.forceRotate.some(
    entry =>
      entry.userName === userName &&
      (entry.accountId === undefined || entry.accountId === accountId)
  )
}

/** The sentence for a `USER` force-rotate entry found in no account; merge relies on it. */
export function forceRotateUnmatchedEverywhere(userName: string): string {
  return `force-rotate entry "${userName}" matches no IAM user in any account in scope.`
}

/**
 * force-rotate entries that name nobody. An entry for an account this run did not scan (out of
 * scope, another shard, or failed) is not judged here: the account's own run or failure says it.
 */
function unmatchedForceRotations(config: Config, outcomes: readonly AccountOutcome[]): string[] {
  const scanned = new Map(
    outcomes.filter(o => o.scanned).map(o => [o.account.id, new Set(o.forcedUsersFound)])
  )
  const everywhere = new Set([...scanned.values()].flatMap(users => [...users]))
  return config.forceRotate.flatMap(entry => {
    if (entry.accountId === undefined) {
      return everywhere.has(entry.userName) ? [] : [forceRotateUnmatchedEverywhere(entry.userName)]
    }
    const users = scanned.get(entry.accountId)
    return users && !users.has(entry.userName)
      ? [
          `force-rotate entry "${entry.accountId}:${entry.userName}" matches no IAM user in account ${entry.accountId}.`
        ]
      : []
  })
}

/** The warning for a record that failed verification: account, user, key and what failed. */
function tamperedStateWarning(
  accountId: string,
  userName: string,
  finding: { accessKeyId: string; problem: string }
): string {
  return `Account ${accountId}, user ${userName}, key ${finding.accessKeyId}: its recorded state was ignored (STATE_TAMPERED): ${finding.problem}.`
}

function failedAccount(account: OrgAccount, error: string): PlanAccount {
  return {
    accountId: account.id,
    accountName: account.name,
    status: 'failed',
    error,
    usersScanned: 0,
    keysScanned: 0,
    users: []
  }
}

/** Something to do in AWS for this user: a key action, or state that planning must record. */
function hasChanges(user: ScannedUser, actions: readonly PlanAction[]): boolean {
  return (
    user.decision.lifecycleUpdates.length > 0 ||
    actions.some(action => action.type !== 'WARN' && action.type !== 'BLOCKED')
  )
}

function describeOutcome(plan: PlanAccount): string {
  if (plan.status === 'failed') return `FAILED: ${plan.error ?? 'unknown error'}`
  const actions = plan.users.flatMap(user => user.actions)
  const byType = new Map<string, number>()
  for (const action of actions) byType.set(action.type, (byType.get(action.type) ?? 0) + 1)
  const summary = [...byType].map(([type, count]) => `${count} ${type.toLowerCase()}`).join(', ')
  return `${plural(plan.usersScanned, 'user')}, ${actions.length === 0 ? 'nothing to do' : summary}`
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`
}
