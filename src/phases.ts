// The phases around the rotation engine, each turning a module's result into a section of the
// plan. Every phase here is best effort: it reports its problems and never undoes key work.
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ListRootsCommand } from '@aws-sdk/client-organizations'
import {
  callAsFor,
  centralStackSpec,
  checkBootstrapStacks,
  deployStacks,
  listAccountsStackSpec,
  secretsKeyStackSpec,
  memberRoleParameters,
  roleArnFromCallerArn
} from './deploy/index.js'
import { managementCredentials, type Caller, type EngineDeps } from './engine.js'
import { knownParents, unknownParentsMessage, type OrgAccount } from './inventory/accounts.js'
import { createGitHubClient, syncIssues } from './issues/index.js'
import {
  type AccountContact,
  bundledTemplatesDir,
  heldBackNotice,
  loadTemplates,
  planNotifications,
  sendNotifications
} from './notify/index.js'
import type { RunPlan, PlanDeployment, PlanIssues, PlanNotifications } from './plan/types.js'
import { errorMessage } from './util/errors.js'
import { workflowRunUrl } from './util/run-url.js'
import { plural } from './util/plural.js'

/** The action's own folder (dist/.. once bundled, src/.. in tests): where cfn/ and templates/ are. */
export function actionRoot(moduleUrl: string): string {
  return dirname(dirname(fileURLToPath(moduleUrl)))
}

/** deploy-stacks: check or apply the member-role StackSet before the accounts are scanned. */
export async function deployPhase(
  deps: EngineDeps,
  caller: Caller,
  accounts: readonly OrgAccount[],
  moduleUrl: string
): Promise<PlanDeployment | undefined> {
  const { config, factory, log } = deps
  if (config.deploy.mode === 'off') return undefined
  // The central roles go into the StackSet (the member roles trust them). Each is known from
  // its input; the write role also from the caller on the write chain. One that cannot be told
  // is left as deployed.
  const centralRoles = {
    write:
      config.roleToAssume ??
      (config.chain.kind === 'write' ? roleArnFromCallerArn(caller.arn) : undefined),
    audit: config.auditRoleToAssume,
    dryRun: config.dryRunRoleToAssume
  }
  if (config.chain.kind === 'write' && !centralRoles.write) {
    log.warning(
      `deploy-stacks: cannot tell the central role from the caller ${caller.arn}; set role-to-assume. Skipping the StackSet ${config.deploy.mode}.`
    )
    return undefined
  }
  const unknownParameters = [
    ...(centralRoles.write ? [] : ['CentralRoleArn' as const]),
    ...(centralRoles.audit ? [] : ['CentralAuditRoleArn' as const]),
    ...(centralRoles.dryRun ? [] : ['CentralDryRunRoleArn' as const])
  ]
  const organizations = factory.organizations(managementCredentials(deps))
  // A typo in deployment-ous is named before any deployment: with some ids known the StackSet
  // targets those (and warns), with none there is nothing to deploy to.
  const deploymentOus = await knownParents(
    organizations,
    config.organizationId,
    'deployment-ous',
    config.deploy.deploymentOus,
    'the StackSet has no target'
  )
  const unknownOusWarning =
    deploymentOus.unknown.length > 0
      ? `${unknownParentsMessage('deployment-ous', deploymentOus.unknown, config.organizationId)}: the StackSet targets the others.`
      : undefined
  if (unknownOusWarning) log.warning(unknownOusWarning)
  const report = await deployStacks(
    factory.cloudFormation(deps.central),
    {
      mode: config.deploy.mode,
      enforce: config.mode === 'enforce',
      stackSetName: config.deploy.stackSetName,
      deploymentOus: deploymentOus.known,
      organizationRootId: async () => {
        const { Roots: roots } = await organizations.send(new ListRootsCommand({}))
        const rootId = roots?.[0]?.Id
        if (!rootId) throw new Error('the organization has no root')
        return rootId
      },
      stackSetRegions: config.deploy.stackSetRegions,
      templateDir: join(actionRoot(moduleUrl), 'cfn'),
      parameters: memberRoleParameters(config, centralRoles),
      unknownParameters,
      accountsInScope: accounts.map(account => account.id),
      managementAccountId: config.managementAccountId,
      callAs: callAsFor(caller.accountId, config.managementAccountId)
    },
    log
  )
  // The bootstrap stacks, each read by the role it created (the action updates none of them).
  const { centralStackName, listAccountsStackName, secretsKeyStackName } = config.deploy
  const { secrets } = config
  const messages = [...(unknownOusWarning ? [unknownOusWarning] : []), ...report.messages]
  const warn = (message: string) => {
    messages.push(message)
    log.warning(message)
  }
  const centralStacks = [
    ...(centralStackName
      ? await checkBootstrapStacks(
          factory.cloudFormation(deps.central),
          [centralStackSpec(config, centralStackName, process.env.GITHUB_REPOSITORY)],
          warn
        )
      : []),
    ...(listAccountsStackName
      ? await checkBootstrapStacks(
          factory.cloudFormation(managementCredentials(deps)),
          [listAccountsStackSpec(config, listAccountsStackName, centralRoles)],
          warn
        )
      : []),
    ...(secretsKeyStackName && secrets.location === 'central' && secrets.accountId
      ? await checkBootstrapStacks(
          factory.cloudFormation(
            deps.sessions.credentials(secrets.accountId, config.chain.secretsRoleName)
          ),
          [secretsKeyStackSpec(config, secretsKeyStackName)],
          warn
        )
      : [])
  ]
  return {
    mode: report.mode,
    stackSetName: report.stackSetName,
    status: report.stackSet.status,
    differences: report.stackSet.differences,
    missingInstances: report.missingInstances,
    failedInstances: report.failedInstances,
    centralStacks,
    messages
  }
}

/**
 * Emails: one digest per recipient, through SES with the central credentials; at most
 * max-emails of them (the rotation job's, or in sharded runs the merge job's, config).
 */
export async function notifyPhase(
  deps: Pick<EngineDeps, 'config' | 'log' | 'factory' | 'central' | 'now' | 'stop'>,
  plan: RunPlan,
  contacts: readonly AccountContact[],
  moduleUrl: string
): Promise<PlanNotifications | undefined> {
  const { config, log } = deps
  if (!config.notify.enabled || !config.notify.senderEmail) return undefined
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
  const loaded = await loadTemplates(resolve(workspace, config.notify.templatesDir), {
    bundledDir: bundledTemplatesDir(moduleUrl),
    warnWhenMissing: config.notify.templatesDir !== 'templates'
  })
  const { mails, warnings } = planNotifications(plan, contacts, {
    sender: config.notify.senderEmail,
    notifyAccountEmail: config.notify.notifyAccountEmail,
    ...(config.notify.ownerTag ? { ownerTag: config.notify.ownerTag } : {}),
    ownerEmailDomains: config.notify.ownerEmailDomains,
    reminderDays: config.reminderDays,
    region: config.awsRegion,
    templates: loaded.templates,
    now: deps.now,
    ...runUrl()
  })
  for (const warning of [...loaded.warnings, ...warnings]) log.warning(warning)
  log.info(
    `${plural(mails.length, 'notification email')} to send (max-emails ${config.notify.maxEmails}).`
  )
  const sender = config.notify.senderEmail
  const { maxEmails } = config.notify
  const result = await sendNotifications(deps.factory.ses(deps.central), mails, {
    region: config.awsRegion,
    log,
    ...(deps.stop ? { stop: deps.stop } : {}),
    cap: {
      maxEmails,
      notice: (held, within) =>
        heldBackNotice(held, within, {
          sender,
          maxEmails,
          mode: plan.mode,
          runId: plan.runId,
          ...runUrl()
        })
    }
  })
  return {
    sent: result.sent.map(({ to, subject }) => ({ to, subject })),
    failed: result.failed.map(({ to, subject, error, fix }) => ({
      to,
      subject,
      error,
      ...(fix ? { fix } : {})
    })),
    unsent: result.unsent.map(({ to, subject, reason, fix }) => ({
      to,
      subject,
      reason,
      ...(fix ? { fix } : {})
    })),
    warnings: [...loaded.warnings, ...warnings, ...result.warnings],
    ...(result.heldBack ? { heldBack: result.heldBack } : {})
  }
}

/** GitHub issues for blocked rotations and failed accounts; a missing permission only warns. */
export async function issuesPhase(
  deps: Pick<EngineDeps, 'config' | 'log' | 'proxy' | 'stop'>,
  plan: RunPlan
): Promise<PlanIssues | undefined> {
  const { config, log } = deps
  if (!config.issues.enabled) return undefined
  const repository = process.env.GITHUB_REPOSITORY ?? ''
  const [owner, repo] = repository.split('/')
  if (!config.issues.githubToken || !owner || !repo) {
    log.warning(
      'open-issues is true but there is no github-token or GITHUB_REPOSITORY: no GitHub issues were opened or updated.'
    )
    return undefined
  }
  try {
    const octokit = createGitHubClient(config.issues.githubToken, {
      log,
      ...(deps.proxy ? { proxy: deps.proxy } : {})
    })
    const result = await syncIssues(
      octokit,
      { owner, repo },
      plan,
      {
        label: config.issues.label,
        maxNewIssues: config.issues.maxNewIssues,
        ...(deps.stop ? { stop: deps.stop } : {})
      },
      log
    )
    const refs = (list: readonly { number: number; title: string; url: string }[]) =>
      list.map(({ number, title, url }) => ({ number, title, url }))
    log.info(
      `GitHub issues: ${result.opened.length} opened, ${result.updated.length} updated, ${result.closed.length} closed, ${result.unchanged.length} unchanged.`
    )
    return {
      opened: refs(result.opened),
      updated: refs(result.updated),
      closed: refs(result.closed),
      unchanged: result.unchanged.length,
      ...(result.deferred.length > 0 ? { deferred: result.deferred } : {}),
      ...(result.rollup
        ? {
            rollup: {
              number: result.rollup.number,
              title: result.rollup.title,
              url: result.rollup.url
            }
          }
        : {}),
      warnings: result.warnings
    }
  } catch (error) {
    const message = `GitHub issues could not be synchronised: ${errorMessage(error)}`
    log.warning(message)
    return { opened: [], updated: [], closed: [], unchanged: 0, warnings: [message] }
  }
}

function runUrl(): { runUrl?: string } {
  const url = workflowRunUrl()
  return url ? { runUrl: url } : {}
}
