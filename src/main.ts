import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import * as core from '@actions/core'
import { AwsClientFactory } from './aws/clients.js'
import { clockSkewWarning } from './aws/clock.js'
import { centralCredentials, RoleSessions } from './aws/sessions.js'
import {
  keyInventory,
  runPlan,
  runRotation,
  stoppedBeforeChange,
  recordSkippedAccounts,
  takeInventory,
  whoAmI,
  type EngineDeps,
  type Logger
} from './engine.js'
import { getInputs, InputErrors, runContextFromEnv, type Config } from './inputs.js'
import { mergeShardPlans } from './merge.js'
import { createGitHubClient } from './issues/client.js'
import {
  COMMENT_BUDGET,
  dryRunCommentBody,
  dryRunFailedBody,
  upsertDryRunComment
} from './issues/pull-request-comment.js'
import { accountContacts } from './inventory/accounts.js'
import type { AccountContact } from './notify/index.js'
import { deployPhase, issuesPhase, notifyPhase } from './phases.js'
import { PlanLedger } from './plan/ledger.js'
import type { PlanAccount, RunPlan } from './plan/types.js'
import { describeProxies, proxySettingsFromEnv, type ProxySettings } from './proxy/index.js'
import { accountFailureAnnotations, ANNOTATION_LIMIT } from './report/annotations.js'
import { summaryMarkdown } from './report/markdown.js'
import { KeySpool } from './report/key-spool.js'
import { keysCsvRows, unscannedRow } from './report/keys-csv.js'
import { AccountSpool } from './report/spool.js'
import { writeReports } from './report/write.js'
import { loadStateKey } from './state/signing.js'
import { errorMessage } from './util/errors.js'
import { workflowRunUrl } from './util/run-url.js'
import { plural } from './util/plural.js'

const logger: Logger = {
  info: message => core.info(message),
  warning: message => core.warning(message),
  debug: message => core.debug(message),
  group: (name, body) => core.group(name, body)
}

/** The action: inputs → dependencies → phases → outputs. The only place that fails the step. */
export async function run(): Promise<void> {
  let config: Config
  try {
    config = getInputs()
  } catch (error) {
    const message = error instanceof InputErrors ? error.message : errorMessage(error)
    core.setFailed(message)
    // A pull request whose change breaks the inputs must not keep showing the last good plan.
    const pullRequest = runContextFromEnv().pullRequest?.number
    if (pullRequest !== undefined) {
      await commentOnPullRequest(core.getInput('github-token').trim(), pullRequest, runUrl =>
        dryRunFailedBody(message, runUrl)
      )
    }
    return
  }

  if (config.dryRun?.unavailable) {
    core.notice(config.dryRun.unavailable)
    await core.summary.addRaw(`${config.dryRun.unavailable}\n`).write()
    return
  }
  const pullRequest = config.dryRun?.pullRequest
  const interruption = new Interruption(config)
  const workDir = mkdtempSync(join(process.env.RUNNER_TEMP ?? tmpdir(), 'iam-key-rotation-'))
  try {
    const plan = config.mergeFrom
      ? await mergeShards(config, config.mergeFrom, workDir, interruption)
      : await rotate(config, workDir, interruption)
    await publish(config, plan, { final: true })
    // Written: a signal from now on (during the pull-request comment) must not rewrite it.
    interruption.remove()
    if (pullRequest !== undefined) {
      await commentOnPullRequest(config.issues.githubToken, pullRequest, runUrl =>
        dryRunCommentBody(summaryMarkdown(plan, COMMENT_BUDGET), runUrl)
      )
    }
  } catch (error) {
    const message = `IAM key rotation failed: ${errorMessage(error)}`
    core.setFailed(message)
    // The comment must not go on showing an earlier run's plan as if it were this one's.
    if (pullRequest !== undefined) {
      await commentOnPullRequest(config.issues.githubToken, pullRequest, runUrl =>
        dryRunFailedBody(message, runUrl)
      )
    }
  } finally {
    interruption.remove()
    rmSync(workDir, { recursive: true, force: true })
  }
}

/** How long a stopped run waits for the work in flight before it writes what it has. */
const STOP_GRACE_MS = 4_000

/**
 * SIGINT and SIGTERM (a cancelled job, timeout-minutes): no further account, user, mail or issue
 * is started, the work in flight gets a few seconds, then the plan, summary and outputs are
 * written with what the run has, and the step fails. A runner sends SIGINT, then SIGTERM 7.5 s
 * later, then kills: a second signal writes at once.
 */
class Interruption {
  private readonly controller = new AbortController()
  private received: NodeJS.Signals | undefined
  private writing: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  /** What the run would write now; set as the run goes from phase to phase. */
  private latest: (() => RunPlan) | undefined
  private phase = 'start'
  private readonly handlers = new Map<NodeJS.Signals, () => void>()

  constructor(private readonly config: Pick<Config, 'reportDir' | 'failOnAccountError'>) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => this.onSignal(signal)
      this.handlers.set(signal, handler)
      process.on(signal, handler)
    }
  }

  get stop(): AbortSignal {
    return this.controller.signal
  }

  get signal(): NodeJS.Signals | undefined {
    return this.received
  }

  /** The phase the run enters, and how to get the plan as it stands in it. */
  enter(phase: string, plan: () => RunPlan): void {
    this.phase = phase
    this.latest = plan
  }

  get phaseName(): string {
    return this.phase
  }

  /** The run noticed the stop at a phase boundary: write what it has and end the process. */
  async finish(): Promise<never> {
    await this.write()
    process.exit(1)
  }

  /** The run's own final write is done (or the run is over): signals go back to Node's default. */
  remove(): void {
    clearTimeout(this.timer)
    for (const [signal, handler] of this.handlers) process.off(signal, handler)
    this.handlers.clear()
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.received) {
      void this.finish()
      return
    }
    this.received = signal
    core.warning(
      `Received ${signal} during ${this.phase}: no further account, user, mail or issue is started; the plan is written with what this run has done.`
    )
    this.controller.abort()
    this.timer = setTimeout(() => void this.finish(), STOP_GRACE_MS)
  }

  private write(): Promise<void> {
    this.writing ??= (async () => {
      const plan = this.latest?.()
      if (!plan) {
        core.setFailed(`The run was stopped (${this.received ?? 'signal'}) before it had a plan.`)
        return
      }
      await publish(this.config, plan, { final: true })
    })()
    return this.writing
  }
}

/** The rotation run: sign in, inventory, stacks, scan/plan/apply, notifications, issues. */
async function rotate(
  config: Config,
  workDir: string,
  interruption: Interruption
): Promise<RunPlan> {
  const proxy = proxySettings()
  const { factory, central, sessions, mask } = signIn(config, proxy)
  try {
    const runId = `${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`

    core.info(`IAM access key rotation, ${config.mode} mode`)
    if (config.dryRun) {
      const which = config.dryRun.pullRequest === undefined ? '' : ` #${config.dryRun.pullRequest}`
      core.info(
        `Pull request${which}: a dry run of the proposed configuration (audit, read-only chain, no mail, no issues).`
      )
    }
    if (config.mode === 'audit' && config.chain.kind === 'write' && config.roleToAssume) {
      core.warning(
        'This audit signs in with the write role (role-to-assume), which can rotate and delete keys; an audit needs only the read-only chain, and the write role trusts only jobs in the iam-key-rotation environment. Set audit-role-to-assume to the audit role (output AuditRoleArn of cfn/central-github-oidc.yaml).'
      )
    }
    const caller = await whoAmI({ factory, central })
    core.info(`Signed in as ${caller.arn}`)
    // Execution rule 6: the run's time is AWS's, from the Date of the answers so far.
    const clock = () => factory.clock.now()
    const now = clock()
    const skew = factory.clock.known
      ? clockSkewWarning(factory.clock.runnerSkewMs)
      : 'No AWS answer carried a Date header, so this run uses the runner clock.'
    if (skew) core.warning(skew)
    core.info(`Evaluated as of ${now.toISOString()} (AWS time).`)
    const state = await loadStateKey(factory.kms(central), config.stateKeyId, 'state-key-id')
    core.info(`State records are verified with ${state.keyArn}.`)
    const runWarnings: string[] = skew ? [skew] : []
    const deps: EngineDeps = {
      config,
      factory,
      sessions,
      central,
      now,
      clock,
      state,
      runId,
      log: logger,
      mask,
      runWarnings,
      stop: interruption.stop,
      ...(proxy ? { proxy } : {})
    }
    const scope = await core.group('Inventory: accounts in scope', () => takeInventory(deps))
    runWarnings.push(...scope.warnings)
    const { accounts, skipped } = scope
    const deployment = await core.group(`Stacks: ${config.deploy.mode}`, () =>
      deployPhase(deps, caller, accounts, import.meta.url)
    )
    // The plan lists the skipped accounts too, in id order with the others.
    const accountIds = [...accounts, ...skipped].map(account => account.id).sort()
    const accountsInScope = accountIds.length
    const ledger = new PlanLedger(
      new AccountSpool(join(workDir, 'accounts.jsonl'), accountIds),
      config.mode === 'enforce',
      keyInventory(config, now, join(workDir, 'keys.csv.spool'), accountIds)
    )
    recordSkippedAccounts(ledger, skipped)
    const shard = config.shard && {
      shard: {
        ...config.shard,
        workflowRunId: process.env.GITHUB_RUN_ID ?? 'local',
        accountIds: [...accountIds].sort(),
        organizationId: config.organizationId,
        managementAccountId: config.managementAccountId
      }
    }
    const head = (plan: RunPlan): RunPlan => ({
      ...plan,
      ...(deployment ? { deployment } : {}),
      ...shard
    })
    // Stopped during the scan or apply: the accounts finished so far, and those in progress as
    // they stand (a change not made yet marked so).
    const found: string[] = []
    const stoppedPlan = (): RunPlan => {
      ledger.finishHeld(stoppedBeforeChange(interruption.signal ?? 'a signal'))
      // keys.csv says which accounts were not read, so it never passes for a full inventory.
      const rows = ledger.inventory?.rows
      for (const account of accounts) {
        if (!rows || rows.has(account.id)) continue
        const note = `not reached: the run was stopped (${interruption.signal ?? 'a signal'}) before this account was read`
        rows.add(
          account.id,
          keysCsvRows([unscannedRow({ accountId: account.id, accountName: account.name }, note)])
        )
      }
      const warnings = [...(deps.runWarnings ?? []), ...found]
      return interrupted(head(runPlan(deps, ledger, warnings)), interruption, accountsInScope)
    }
    interruption.enter('scan', stoppedPlan)
    const scanned = await runRotation(deps, accounts, ledger, {
      onPhase: phase => interruption.enter(phase, stoppedPlan),
      found
    })
    if (interruption.signal) return interruption.finish()
    const plan = head(scanned)
    if (config.shard) {
      core.info(
        `Shard ${config.shard.index}/${config.shard.count}: no mail and no GitHub issue here. The merge job (merge-from) sends one digest per recipient and syncs the issues for the whole organization.`
      )
    } else {
      await mailAndFileIssues(deps, plan, accounts, interruption, accountsInScope)
    }
    core.debug(`API calls by operation: ${JSON.stringify(factory.metrics.byOperation())}`)
    return plan
  } finally {
    factory.destroy()
  }
}

/**
 * The account addresses for the merge job's account mails, from Organizations through the
 * list-accounts role (as the shard jobs read them); none when no account mail is wanted. A
 * failure only warns: the owners' mails go out, and each account mail is reported unsent.
 */
async function mergeContacts(
  config: Config,
  { factory, sessions }: Pick<ReturnType<typeof signIn>, 'factory' | 'sessions'>,
  organization: { organizationId: string; managementAccountId: string }
): Promise<AccountContact[]> {
  const { notify } = config
  if (!notify.enabled || !notify.senderEmail || !notify.notifyAccountEmail) return []
  try {
    return await accountContacts(
      factory.organizations(
        sessions.credentials(organization.managementAccountId, config.listAccountsRoleName)
      ),
      organization.organizationId
    )
  } catch (error) {
    core.warning(
      `The account addresses could not be read from Organizations (${errorMessage(error)}): no account mail is sent; the owners' mails are.`
    )
    return []
  }
}

/** The central role's credentials (OIDC), a client factory and the role sessions of its chain. */
function signIn(config: Config, proxy: ProxySettings | undefined) {
  const factory = new AwsClientFactory({
    region: config.awsRegion,
    ...(proxy ? { proxy } : {}),
    roles: {
      memberRoleName: config.chain.memberRoleName,
      listAccountsRoleName: config.listAccountsRoleName,
      secretsRoleName: config.chain.secretsRoleName,
      stackSetName: config.deploy.stackSetName,
      managementAccountId: config.managementAccountId,
      central: config.chain.kind === 'write' ? 'write' : config.dryRun ? 'dry-run' : 'audit'
    }
  })
  const sessionName = `iam-key-rotation-${process.env.GITHUB_RUN_ID ?? 'local'}`
  const mask = (secret: string) => core.setSecret(secret)
  const central = centralCredentials({
    factory,
    ...(config.chain.roleToAssume ? { roleToAssume: config.chain.roleToAssume } : {}),
    audience: config.audience,
    sessionName,
    getIdToken: audience => core.getIDToken(audience),
    mask
  })
  const partition = /^arn:([^:]+):/.exec(config.chain.roleToAssume ?? '')?.[1] ?? 'aws'
  const sessions = new RoleSessions(factory, central, sessionName, mask, partition)
  return { factory, central, sessions, mask }
}

/**
 * Mails and issues for the plan, after the plan is written once: a job cut short in either
 * phase still has the plan of what was done. The rotation job does this, or for sharded runs
 * the merge job, once for the whole organization.
 */
async function mailAndFileIssues(
  deps: Pick<EngineDeps, 'config' | 'log' | 'factory' | 'central' | 'now' | 'stop' | 'proxy'>,
  plan: RunPlan,
  contacts: readonly AccountContact[],
  interruption: Interruption,
  accountsInScope: number
): Promise<void> {
  await publish(deps.config, plan, { final: false })
  interruption.enter('notifications', () => interrupted(plan, interruption, accountsInScope))
  const notifications = await core.group('Notifications', () =>
    notifyPhase(deps, plan, contacts, import.meta.url)
  )
  if (notifications) plan.notifications = notifications
  interruption.enter('issues', () => interrupted(plan, interruption, accountsInScope))
  const issues = await core.group('GitHub issues', () => issuesPhase(deps, plan))
  if (issues) plan.issues = issues
  if (interruption.signal) await interruption.finish()
}

/** The plan of a stopped run, saying where it stopped. */
function interrupted(plan: RunPlan, interruption: Interruption, accountsInScope: number): RunPlan {
  return {
    ...plan,
    interrupted: {
      signal: interruption.signal ?? 'signal',
      phase: interruption.phaseName,
      at: new Date().toISOString(),
      accountsNotReached: accountsInScope - plan.totals.accounts
    }
  }
}

/**
 * HTTPS_PROXY, HTTP_PROXY and NO_PROXY (or their lowercase forms) of the runner, for every AWS
 * and GitHub API connection. The proxy's password is masked before anything can log it.
 */
function proxySettings(): ProxySettings | undefined {
  const proxy = proxySettingsFromEnv(process.env)
  if (!proxy) return undefined
  for (const secret of proxy.secrets) core.setSecret(secret)
  core.info(`Proxy for AWS and GitHub API calls: ${describeProxies(proxy)}`)
  return proxy
}

/**
 * Merge mode: the shard jobs' plans become one report, then one digest per recipient and one
 * issue sync for the whole organization. Its AWS calls are SES's and Organizations' (account
 * addresses), with the central role of the read-only chain (audit-role-to-assume).
 */
async function mergeShards(
  config: Config,
  mergeFrom: string,
  workDir: string,
  interruption: Interruption
): Promise<RunPlan> {
  const dir = resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), mergeFrom)
  const spool = new AccountSpool(join(workDir, 'merged-accounts.jsonl'))
  const keys = new KeySpool(join(workDir, 'merged-keys.csv.spool'))
  const { plan, organization } = await mergeShardPlans(dir, spool, logger, keys)
  const proxy = proxySettings()
  const signedIn = signIn(config, proxy)
  const { factory, central } = signedIn
  try {
    const contacts = await mergeContacts(config, signedIn, organization)
    const deps = {
      config,
      log: logger,
      factory,
      central,
      now: new Date(plan.generatedAt),
      stop: interruption.stop,
      ...(proxy ? { proxy } : {})
    }
    await mailAndFileIssues(deps, plan, contacts, interruption, plan.totals.accounts)
    return plan
  } finally {
    factory.destroy()
  }
}

/**
 * Reports and job summary; with `final`, also the outputs and the step's status. The first
 * write comes right after the scan and apply, the final one after mails and issues.
 */
async function publish(
  config: Pick<Config, 'reportDir' | 'failOnAccountError'>,
  plan: RunPlan,
  { final }: { final: boolean }
): Promise<void> {
  const reportDir = resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), config.reportDir)
  const runUrl = workflowRunUrl()
  if (runUrl) plan = { ...plan, runUrl }
  const paths = writeReports(plan, reportDir)
  core.info(
    `Plan written to ${paths.json}, ${paths.markdown}, ${paths.csv} and ${paths.keys}${final ? '' : ' (completed after notifications and issues)'}.`
  )
  await core.summary.addRaw(summaryMarkdown(plan)).write({ overwrite: true })
  annotateFailedAccounts(config, plan)
  if (!final) return
  const failedAccounts = failedAccountIds(plan.accounts)
  setOutputs(plan, failedAccounts, paths.json, paths.dir)

  const stop = plan.interrupted
  if (stop) {
    core.setFailed(
      `The run was stopped (${stop.signal}) during ${stop.phase}; the plan lists what it did until then` +
        (stop.accountsNotReached > 0
          ? `, and ${plural(stop.accountsNotReached, 'account')} in scope ${stop.accountsNotReached === 1 ? 'was' : 'were'} not reached.`
          : '.')
    )
  } else if (failedAccounts.length > 0 && config.failOnAccountError) {
    core.setFailed(
      `${failedAccounts.length} of ${plan.totals.accounts} accounts could not be processed: ` +
        `${failedAccounts.join(', ')}. The other accounts were processed; ` +
        `see the plan for the reasons (set fail-on-account-error: false to only warn).`
    )
  } else if (plan.totals.failedActions > 0 || plan.totals.failedUsers > 0) {
    const parts = [
      plan.totals.failedActions > 0
        ? `${plural(plan.totals.failedActions, 'key action')} failed`
        : '',
      plan.totals.failedUsers > 0
        ? `${plural(plan.totals.failedUsers, 'user')} could not be scanned`
        : ''
    ].filter(Boolean)
    core.setFailed(`${parts.join(' and ')}; see the plan for details.`)
  }
}

let failedAccountsAnnotated = false

/**
 * The failed accounts as titled annotations, once per run, at the first publish: before mails
 * and issues add warnings of their own, so GitHub's ten per severity are not used up first.
 * As errors (when they fail the step) the step's failure message takes one of the ten.
 */
function annotateFailedAccounts(config: Pick<Config, 'failOnAccountError'>, plan: RunPlan): void {
  if (failedAccountsAnnotated) return
  failedAccountsAnnotated = true
  const [annotate, limit] = config.failOnAccountError
    ? [core.error, ANNOTATION_LIMIT - 1]
    : [core.warning, ANNOTATION_LIMIT]
  for (const { title, message } of accountFailureAnnotations(plan.accounts, limit)) {
    annotate(message, { title })
  }
}

function failedAccountIds(accounts: Iterable<PlanAccount>): string[] {
  const ids: string[] = []
  for (const account of accounts) if (account.status === 'failed') ids.push(account.accountId)
  return ids
}

/** The dry run's plan, in one comment on the pull request kept up to date. Best effort. */
async function commentOnPullRequest(
  githubToken: string | undefined,
  pullNumber: number,
  body: (runUrl: string | undefined) => string
): Promise<void> {
  const log = logger
  const [owner, repo] = (process.env.GITHUB_REPOSITORY ?? '').split('/')
  if (!githubToken || !owner || !repo) {
    log.warning(
      'Dry run: no github-token or GITHUB_REPOSITORY, so the plan is not commented on the pull request.'
    )
    return
  }
  const runUrl = workflowRunUrl()
  try {
    // The same proxy as the run's other GitHub calls (already announced and masked by then).
    const proxy = proxySettingsFromEnv(process.env)
    const octokit = createGitHubClient(githubToken, {
      log,
      ...(proxy ? { proxy } : {})
    })
    // Masking covers the log, not what is posted: the token never goes into a comment.
    const text = body(runUrl).replaceAll(githubToken, '***')
    const outcome = await upsertDryRunComment(octokit, { owner, repo }, pullNumber, text)
    log.info(`Dry run: pull request #${pullNumber} comment ${outcome}.`)
  } catch (error) {
    log.warning(
      `Dry run: could not comment on pull request #${pullNumber} (${errorMessage(error)}). A 403 means the job lacks "permissions: pull-requests: write".`
    )
  }
}

function setOutputs(
  plan: RunPlan,
  failedAccounts: readonly string[],
  planPath: string,
  reportDir: string
): void {
  const t = plan.totals
  core.setOutput('plan-path', planPath)
  core.setOutput('report-dir', reportDir)
  core.setOutput('rotated', t.rotated)
  core.setOutput('deactivated', t.deactivated)
  core.setOutput('deleted', t.deleted)
  core.setOutput('warnings', t.warnings)
  core.setOutput('blocked', t.blocked)
  core.setOutput('failed-accounts', failedAccounts.join(','))
  core.setOutput('has-conflicts', t.blocked > 0 ? 'true' : 'false')
}
