import { resolve } from 'node:path'
import * as core from '@actions/core'
import { AwsClientFactory } from './aws/clients.js'
import { clockSkewWarning } from './aws/clock.js'
import { centralCredentials, RoleSessions } from './aws/sessions.js'
import { runRotation, takeInventory, whoAmI, type EngineDeps, type Logger } from './engine.js'
import { getInputs, InputErrors, runContextFromEnv, type Config } from './inputs.js'
import { mergePlans, readShardPlans } from './merge.js'
import { createGitHubClient } from './issues/client.js'
import {
  dryRunCommentBody,
  dryRunFailedBody,
  upsertDryRunComment
} from './issues/pull-request-comment.js'
import { deployPhase, issuesPhase, notifyPhase } from './phases.js'
import type { Plan } from './plan/types.js'
import { describeProxies, proxySettingsFromEnv, type ProxySettings } from './proxy/index.js'
import { summaryMarkdown } from './report/markdown.js'
import { writeReports } from './report/write.js'
import { loadStateKey } from './state/signing.js'
import { errorMessage } from './util/errors.js'

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
  try {
    const plan = config.mergeFrom ? await mergeShards(config.mergeFrom) : await rotate(config)
    await publish(config, plan)
    if (pullRequest !== undefined) {
      await commentOnPullRequest(config.issues.githubToken, pullRequest, runUrl =>
        dryRunCommentBody(summaryMarkdown(plan), runUrl)
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
  }
}

/** The rotation run: sign in, inventory, stacks, scan/plan/apply, notifications, issues. */
async function rotate(config: Config): Promise<Plan> {
  const proxy = proxySettings()
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
  try {
    const runId = `${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`
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
      runWarnings: skew ? [skew] : [],
      ...(proxy ? { proxy } : {})
    }
    const accounts = await core.group('Inventory: accounts in scope', () => takeInventory(deps))
    const deployment = await core.group(`Stacks: ${config.deploy.mode}`, () =>
      deployPhase(deps, caller, accounts, import.meta.url)
    )
    const { plan, outcomes } = await runRotation(deps, accounts)
    if (deployment) plan.deployment = deployment
    const notifications = await core.group('Notifications', () =>
      notifyPhase(deps, plan, outcomes, import.meta.url)
    )
    if (notifications) plan.notifications = notifications
    const issues = await core.group('GitHub issues', () => issuesPhase(deps, plan))
    if (issues) plan.issues = issues
    core.debug(`API calls by operation: ${JSON.stringify(factory.metrics.byOperation())}`)
    return plan
  } finally {
    factory.destroy()
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

/** Merge mode: the shard jobs' plans become one report. No AWS call. */
async function mergeShards(mergeFrom: string): Promise<Plan> {
  const dir = resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), mergeFrom)
  const shards = await readShardPlans(dir)
  core.info(`Merging ${shards.length} shard plans from ${dir}:`)
  for (const { path, plan } of shards) core.info(`  ${path}: ${plan.accounts.length} accounts`)
  return mergePlans(shards)
}

/** Reports, job summary, outputs, and the step's status. */
async function publish(config: Config, plan: Plan): Promise<void> {
  const reportDir = resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), config.reportDir)
  const paths = await core.group('Report', async () => {
    const written = await writeReports(plan, reportDir)
    core.info(`Plan written to ${written.json}, ${written.markdown} and ${written.csv}`)
    return written
  })
  await core.summary.addRaw(summaryMarkdown(plan)).write()
  setOutputs(plan, paths.json, paths.dir)

  const failedAccounts = plan.accounts.filter(account => account.status === 'failed')
  if (failedAccounts.length > 0 && config.failOnAccountError) {
    core.setFailed(
      `${failedAccounts.length} of ${plan.accounts.length} accounts could not be processed: ` +
        `${failedAccounts.map(a => a.accountId).join(', ')}. The other accounts were processed; ` +
        `see the plan for the reasons (set fail-on-account-error: false to only warn).`
    )
  } else if (plan.totals.failedActions > 0 || plan.totals.failedUsers > 0) {
    const parts = [
      plan.totals.failedActions > 0 ? `${plan.totals.failedActions} key actions failed` : '',
      plan.totals.failedUsers > 0 ? `${plan.totals.failedUsers} users could not be scanned` : ''
    ].filter(Boolean)
    core.setFailed(`${parts.join(' and ')}; see the plan for details.`)
  }
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
  const { GITHUB_SERVER_URL: server, GITHUB_RUN_ID: runId } = process.env
  const runUrl = server && runId ? `${server}/${owner}/${repo}/actions/runs/${runId}` : undefined
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

function setOutputs(plan: Plan, planPath: string, reportDir: string): void {
  const t = plan.totals
  core.setOutput('plan-path', planPath)
  core.setOutput('report-dir', reportDir)
  core.setOutput('rotated', t.rotated)
  core.setOutput('deactivated', t.deactivated)
  core.setOutput('deleted', t.deleted)
  core.setOutput('warnings', t.warnings)
  core.setOutput('blocked', t.blocked)
  core.setOutput(
    'failed-accounts',
    plan.accounts
      .filter(account => account.status === 'failed')
      .map(account => account.accountId)
      .join(',')
  )
  core.setOutput('has-conflicts', t.blocked > 0 ? 'true' : 'false')
}
