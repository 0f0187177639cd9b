import {
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  DescribeStackSetCommand,
  DescribeStackSetOperationCommand,
  ListStackInstancesCommand,
  UpdateStackSetCommand,
  type CloudFormationClient,
  type Parameter,
  type StackInstanceSummary,
  type StackSet,
  type StackSetOperationPreferences
} from '@aws-sdk/client-cloudformation'
import { awsErrorCode, errorMessage } from '../util/errors.js'
import {
  DeployConfigError,
  loadMemberTemplate,
  parameterProblems,
  templateDifferences,
  type MemberTemplate
} from './template.js'
import { plural } from '../util/plural.js'

export type DeployMode = 'check' | 'apply'
export type StackSetState = 'missing' | 'current' | 'drifted' | 'created' | 'updated' | 'failed'
export type CallAs = 'SELF' | 'DELEGATED_ADMIN'

/** The only thing the deploy phase needs of a CloudFormation client (so tests can fake it). */
export type CloudFormationSender = Pick<CloudFormationClient, 'send'>

/** Where progress goes: `@actions/core` fits (info, warning, debug). */
export interface DeployLog {
  info(message: string): void
  warning(message: string): void
  debug?(message: string): void
}

/** Parameters of cfn/member-role.yaml. Unset optional ones take the template's default. */
export interface MemberRoleParameters {
  readonly MemberRoleName: string
  /** Undefined when this run cannot tell it: the deployed value is kept. */
  readonly CentralRoleArn?: string
  readonly AuditMemberRoleName?: string
  /** Undefined when this run cannot tell it: the deployed value is kept. */
  readonly CentralAuditRoleArn?: string
  /** Undefined when this run cannot tell it: the deployed value is kept. */
  readonly CentralDryRunRoleArn?: string
  readonly UserPath?: string
  readonly OrganizationId: string
  readonly SecretNamePrefix?: string
  readonly SecretsAccountId?: string
  readonly KmsKeyArn?: string
  /** The keys of replica-kms-key-ids, comma separated. */
  readonly ReplicaKmsKeyArns?: string
  readonly SecretsKeyStackName?: string
  readonly CreateExemptionGroup?: 'true' | 'false'
  readonly ExemptionGroupName?: string
}

export interface DeployWaitOptions {
  /** Longest wait for one StackSet operation; then the run goes on and the next run checks again. */
  readonly timeoutMs?: number
  /**
   * A fixed pause between polls. By default the pauses start short and double (1 s, 2 s, 4 s,
   * 8 s, then 15 s): most operations end within seconds, and a long one is not polled too often.
   */
  readonly pollIntervalMs?: number
  readonly sleep?: (ms: number) => Promise<void>
}

export interface DeployOptions {
  readonly mode: DeployMode
  /** `mode: enforce`. In audit mode, `apply` only checks (and says so). */
  readonly enforce: boolean
  readonly stackSetName: string
  /** Roots or OUs to deploy to; empty means the organization root (see organizationRootId). */
  readonly deploymentOus: readonly string[]
  /** The root id (`r-…`), or how to find it; used only when deploymentOus is empty. */
  readonly organizationRootId?: string | (() => Promise<string>)
  readonly stackSetRegions: readonly string[]
  /** Folder holding member-role.yaml. */
  readonly templateDir: string
  /** Replaces the template file's content (tests, or a template fetched elsewhere). */
  readonly templateBody?: string
  readonly parameters: MemberRoleParameters
  /**
   * Parameters this run cannot tell (the other chain's central role when its input is empty):
   * never reported as different, and kept as deployed by an update.
   */
  readonly unknownParameters?: readonly (keyof MemberRoleParameters)[]
  /** Accounts the run processes: each needs a CURRENT stack instance for AssumeRole to work. */
  readonly accountsInScope: readonly string[]
  /** Service-managed StackSets never deploy here; it is left out of missingInstances. */
  readonly managementAccountId?: string
  /** DELEGATED_ADMIN when the central account is a StackSets delegated administrator. */
  readonly callAs?: CallAs
  readonly operationPreferences?: StackSetOperationPreferences
  readonly wait?: DeployWaitOptions
}

export interface FailedInstance {
  readonly account: string
  readonly region: string
  readonly reason: string
}

export interface OperationOutcome {
  readonly operationId: string
  readonly action: 'CREATE_INSTANCES' | 'UPDATE'
  /** SUCCEEDED, FAILED, STOPPED, or the last status seen when the wait ran out. */
  readonly status: string
  readonly timedOut: boolean
  readonly reason?: string
}

export interface DeployReport {
  /** The mode acted in: `check` when `apply` was asked for in audit mode. */
  readonly mode: DeployMode
  readonly stackSetName: string
  readonly stackSet: { readonly status: StackSetState; readonly differences: string[] }
  /** Accounts in scope without a CURRENT stack instance: AssumeRole into them will fail. */
  readonly missingInstances: string[]
  readonly failedInstances: FailedInstance[]
  readonly operations: OperationOutcome[]
  readonly messages: string[]
}

const CAPABILITIES = ['CAPABILITY_NAMED_IAM' as const]
const STACK_SET_DESCRIPTION =
  'iam-key-rotation member role (cfn/member-role.yaml), managed by the iam-key-rotation GitHub Action.'
const DEFAULT_TIMEOUT_MS = 20 * 60_000
const FIRST_POLL_MS = 1_000
const LONGEST_POLL_MS = 15_000
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED'])
const LISTED_ACCOUNTS = 20

/**
 * One failing account (an SCP, a name clash) must not stop the rollout to the others, but a
 * template that fails everywhere should stop early.
 */
export const DEFAULT_OPERATION_PREFERENCES: StackSetOperationPreferences = {
  RegionConcurrencyType: 'PARALLEL',
  ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
  FailureTolerancePercentage: 10,
  MaxConcurrentPercentage: 25
}

/** What must change on an existing StackSet. */
interface Drift {
  readonly differences: string[]
  /** Template, parameters, capabilities or auto-deployment: an UpdateStackSet. */
  readonly needsUpdate: boolean
  readonly missingOus: string[]
  readonly missingRegions: string[]
}

/**
 * The deploy phase: compares the member-role StackSet with cfn/member-role.yaml and the wanted
 * parameters and targets, reports accounts in scope that lack a CURRENT stack instance, and in
 * `apply` creates or updates the StackSet and waits for the operation. A second run with nothing
 * changed makes no write call. Never throws for AWS errors (they are in the report); throws
 * DeployConfigError for a bad template or parameters, before any AWS call.
 */
export async function deployStacks(
  cfn: CloudFormationSender,
  options: DeployOptions,
  log: DeployLog
): Promise<DeployReport> {
  const messages: string[] = []
  const info = (message: string) => {
    messages.push(message)
    log.info(message)
  }
  const warn = (message: string) => {
    messages.push(message)
    log.warning(message)
  }
  const name = options.stackSetName
  const mode: DeployMode = options.mode === 'apply' && !options.enforce ? 'check' : options.mode
  if (mode !== options.mode) {
    info(
      `deploy-stacks is "apply" but mode is "audit": only checking StackSet ${name}; nothing is changed.`
    )
  }

  const template = await loadMemberTemplate(options.templateDir, options.templateBody)
  const values = parameterValues(options.parameters)
  const problems = parameterProblems(template.parameters, values, options.unknownParameters)
  if (problems.length > 0) {
    throw new DeployConfigError(
      `The parameters for StackSet ${name} do not fit cfn/member-role.yaml: ${problems.join('; ')}.`
    )
  }
  if (options.deploymentOus.length === 0 && options.organizationRootId === undefined) {
    throw new DeployConfigError(
      'deployment-ous is empty and the organization root id is unknown: name the OUs to deploy to.'
    )
  }
  if (options.stackSetRegions.length === 0) {
    throw new DeployConfigError('stackset-regions is empty: the StackSet needs one region.')
  }
  if (options.stackSetRegions.length > 1) {
    warn(
      `stackset-regions names ${options.stackSetRegions.length} regions, but the member role is an IAM ` +
        `resource (global): every region after the first fails with "already exists". Use one region.`
    )
  }
  const unknown = new Set<string>(options.unknownParameters ?? [])
  const newParameters: Parameter[] = Object.entries(values)
    .filter(([key]) => !unknown.has(key))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }))
  // An unknown parameter keeps its deployed value, if the StackSet has one: CloudFormation
  // refuses UsePreviousValue for a parameter the deployed template did not have.
  const updatedParameters = (deployed: StackSet): Parameter[] => {
    const has = new Set((deployed.Parameters ?? []).map(p => p.ParameterKey))
    return [
      ...newParameters,
      ...[...unknown]
        .filter(key => has.has(key))
        .sort()
        .map(ParameterKey => ({ ParameterKey, UsePreviousValue: true }))
    ]
  }
  const wantedParameters = newParameters
  log.debug?.(
    `StackSet ${name}: parameters ${wantedParameters.map(p => `${p.ParameterKey}=${p.ParameterValue}`).join(', ')}`
  )

  const callAs = options.callAs ? { CallAs: options.callAs } : {}
  const operations: OperationOutcome[] = []
  const failed = (message: string): DeployReport => {
    warn(message)
    return {
      mode,
      stackSetName: name,
      stackSet: { status: 'failed', differences: [] },
      missingInstances: [],
      failedInstances: [],
      operations,
      messages
    }
  }

  let stackSet: StackSet | undefined
  try {
    stackSet = await describeStackSet(cfn, name, callAs)
  } catch (error) {
    return failed(`Could not read StackSet ${name}: ${explain(error)}`)
  }

  let instances: StackInstanceSummary[] = []
  if (stackSet) {
    if (stackSet.PermissionModel !== 'SERVICE_MANAGED') {
      return failed(
        `StackSet ${name} uses ${stackSet.PermissionModel ?? 'self-managed'} permissions; the action ` +
          `manages only service-managed StackSets. Delete it or choose another stackset-name.`
      )
    }
    try {
      instances = await listInstances(cfn, name, callAs)
    } catch (error) {
      return failed(`Could not list the stack instances of StackSet ${name}: ${explain(error)}`)
    }
  }

  let ous: string[] = []
  if (stackSet || mode === 'apply') {
    try {
      ous = await wantedOus(options)
    } catch (error) {
      return failed(
        `Could not find the organization root to deploy StackSet ${name} to: ${explain(error)}`
      )
    }
  }

  // Set once a write call went through: the instances are listed again afterwards.
  let changed = false
  let status: StackSetState
  let differences: string[]
  if (!stackSet) {
    differences = [`StackSet ${name} does not exist`]
    status = mode === 'apply' ? await create() : 'missing'
  } else {
    const drift = driftOf(stackSet, instances, template, values, ous, options)
    differences = drift.differences
    status =
      differences.length === 0
        ? 'current'
        : mode === 'apply'
          ? await bringUpToDate(stackSet, drift)
          : 'drifted'
  }

  if (changed) {
    try {
      instances = await listInstances(cfn, name, callAs)
    } catch (error) {
      warn(`Could not list the stack instances of StackSet ${name}: ${explain(error)}`)
    }
  }

  if (status === 'current') {
    info(`StackSet ${name} matches cfn/member-role.yaml and the wanted settings.`)
  } else if (status === 'missing') {
    warn(
      `StackSet ${name} does not exist. deploy-stacks: apply (with mode: enforce) creates it from cfn/member-role.yaml.`
    )
  } else if (status === 'drifted') {
    warn(
      `StackSet ${name} differs from cfn/member-role.yaml and the wanted settings: ${differences.join('; ')}. ` +
        `deploy-stacks: apply (with mode: enforce) updates it.`
    )
  }

  const { missingInstances, failedInstances } = assessInstances(instances, options, info, warn)
  return {
    mode,
    stackSetName: name,
    stackSet: { status, differences },
    missingInstances,
    failedInstances,
    operations,
    messages
  }

  async function create(): Promise<StackSetState> {
    info(`Creating StackSet ${name} (service-managed, automatic deployment to new accounts).`)
    try {
      await cfn.send(
        new CreateStackSetCommand({
          StackSetName: name,
          Description: STACK_SET_DESCRIPTION,
          TemplateBody: template.body,
          Parameters: wantedParameters,
          Capabilities: CAPABILITIES,
          PermissionModel: 'SERVICE_MANAGED',
          AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
          // Queue operations that would otherwise fail with OperationInProgressException.
          ManagedExecution: { Active: true },
          ...callAs
        })
      )
    } catch (error) {
      warn(`Could not create StackSet ${name}: ${explain(error)}`)
      return 'failed'
    }
    changed = true
    const outcome = await createInstances(ous, options.stackSetRegions)
    return outcome === 'failed' ? 'failed' : 'created'
  }

  async function bringUpToDate(deployed: StackSet, drift: Drift): Promise<StackSetState> {
    if (drift.needsUpdate) {
      info(`Updating StackSet ${name}: ${drift.differences.join('; ')}.`)
      let operationId: string | undefined
      try {
        const response = await cfn.send(
          new UpdateStackSetCommand({
            StackSetName: name,
            Description: STACK_SET_DESCRIPTION,
            TemplateBody: template.body,
            Parameters: updatedParameters(deployed),
            Capabilities: CAPABILITIES,
            AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
            OperationPreferences: options.operationPreferences ?? DEFAULT_OPERATION_PREFERENCES,
            ...callAs
          })
        )
        operationId = response.OperationId
        changed = true
      } catch (error) {
        warn(`Could not update StackSet ${name}: ${explain(error)}`)
        return 'failed'
      }
      if (operationId && (await waitFor(operationId, 'UPDATE')) === 'failed') return 'failed'
    }
    const covered = ous.filter(ou => !drift.missingOus.includes(ou))
    if (drift.missingOus.length > 0) {
      if ((await createInstances(drift.missingOus, options.stackSetRegions)) === 'failed') {
        return 'failed'
      }
    }
    if (drift.missingRegions.length > 0 && covered.length > 0) {
      if ((await createInstances(covered, drift.missingRegions)) === 'failed') return 'failed'
    }
    return 'updated'
  }

  async function createInstances(
    ous: readonly string[],
    regions: readonly string[]
  ): Promise<'done' | 'failed'> {
    info(`StackSet ${name}: adding stack instances for ${ous.join(', ')} in ${regions.join(', ')}.`)
    let operationId: string | undefined
    try {
      const response = await cfn.send(
        new CreateStackInstancesCommand({
          StackSetName: name,
          DeploymentTargets: { OrganizationalUnitIds: [...ous] },
          Regions: [...regions],
          OperationPreferences: options.operationPreferences ?? DEFAULT_OPERATION_PREFERENCES,
          ...callAs
        })
      )
      operationId = response.OperationId
      changed = true
    } catch (error) {
      warn(`Could not create the stack instances of StackSet ${name}: ${explain(error)}`)
      return 'failed'
    }
    if (!operationId) return 'done'
    return waitFor(operationId, 'CREATE_INSTANCES')
  }

  async function waitFor(
    operationId: string,
    action: OperationOutcome['action']
  ): Promise<'done' | 'failed'> {
    const timeoutMs = options.wait?.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const fixedPollMs = options.wait?.pollIntervalMs
    let pollMs = fixedPollMs ?? FIRST_POLL_MS
    const sleep = options.wait?.sleep ?? defaultSleep
    // Waited time is the sum of the pauses: deterministic, and independent of the clock.
    let waited = 0
    for (;;) {
      let operation
      try {
        const response = await cfn.send(
          new DescribeStackSetOperationCommand({
            StackSetName: name,
            OperationId: operationId,
            ...callAs
          })
        )
        operation = response.StackSetOperation
      } catch (error) {
        warn(`Could not follow operation ${operationId} of StackSet ${name}: ${explain(error)}`)
        operations.push({ operationId, action, status: 'UNKNOWN', timedOut: false })
        return 'failed'
      }
      const status = operation?.Status ?? 'UNKNOWN'
      const reason = operation?.StatusReason
      if (TERMINAL.has(status)) {
        operations.push({
          operationId,
          action,
          status,
          timedOut: false,
          ...(reason ? { reason } : {})
        })
        if (status === 'SUCCEEDED') {
          info(`StackSet ${name}: operation ${operationId} succeeded.`)
          return 'done'
        }
        warn(
          `StackSet ${name}: operation ${operationId} ${status.toLowerCase()}${reason ? `: ${reason}` : ''}.`
        )
        return 'failed'
      }
      if (waited >= timeoutMs) {
        operations.push({ operationId, action, status, timedOut: true })
        warn(
          `StackSet ${name}: operation ${operationId} is still ${status} after ${seconds(waited)}; ` +
            `it goes on in CloudFormation and the next run checks the result.`
        )
        return 'done'
      }
      const failedSoFar = operation?.StatusDetails?.FailedStackInstancesCount ?? 0
      log.info(
        `StackSet ${name}: operation ${operationId} ${status} (${seconds(waited)} waited` +
          `${failedSoFar > 0 ? `, ${plural(failedSoFar, 'stack instance')} failed so far` : ''}).`
      )
      const pause = Math.min(pollMs, timeoutMs - waited)
      await sleep(pause)
      waited += pause
      if (fixedPollMs === undefined) pollMs = Math.min(pollMs * 2, LONGEST_POLL_MS)
    }
  }
}

/** The deployment targets: the given OUs, or else the organization root. */
async function wantedOus(options: DeployOptions): Promise<string[]> {
  if (options.deploymentOus.length > 0) return [...options.deploymentOus]
  const root = options.organizationRootId
  const id = typeof root === 'function' ? await root() : root
  if (!id) throw new Error('the organization root id is empty')
  return [id]
}

function driftOf(
  stackSet: StackSet,
  instances: readonly StackInstanceSummary[],
  template: MemberTemplate,
  values: Readonly<Record<string, string>>,
  wantedOus: readonly string[],
  options: DeployOptions
): Drift {
  const differences = templateDifferences(stackSet.TemplateBody, template)
  const deployed = new Map(
    (stackSet.Parameters ?? []).map(p => [p.ParameterKey ?? '', p.ParameterValue ?? ''])
  )
  for (const spec of template.parameters.values()) {
    if (options.unknownParameters?.includes(spec.name as keyof MemberRoleParameters)) continue
    const wanted = values[spec.name] ?? spec.default
    const current = deployed.get(spec.name) ?? spec.default
    if (wanted !== current) {
      differences.push(
        `parameter ${spec.name}: deployed ${quoted(current)}, wanted ${quoted(wanted)}`
      )
    }
  }
  for (const key of deployed.keys()) {
    if (!template.parameters.has(key))
      differences.push(`parameter ${key}: no longer in the template`)
  }
  if (stackSet.AutoDeployment?.Enabled !== true) {
    differences.push('automatic deployment to new accounts is off')
  }
  if (stackSet.AutoDeployment?.RetainStacksOnAccountRemoval === true) {
    differences.push('stacks are retained when an account leaves')
  }
  if (!(stackSet.Capabilities ?? []).includes('CAPABILITY_NAMED_IAM')) {
    differences.push('capability CAPABILITY_NAMED_IAM is not acknowledged')
  }
  const needsUpdate = differences.length > 0

  // Targets: from the StackSet, and from its instances (older responses may omit the former).
  const deployedOus = new Set([
    ...(stackSet.OrganizationalUnitIds ?? []),
    ...instances.flatMap(i => (i.OrganizationalUnitId ? [i.OrganizationalUnitId] : []))
  ])
  const deployedRegions = new Set([
    ...(stackSet.Regions ?? []),
    ...instances.flatMap(i => (i.Region ? [i.Region] : []))
  ])
  const missingOus = wantedOus.filter(ou => !deployedOus.has(ou))
  const missingRegions = options.stackSetRegions.filter(region => !deployedRegions.has(region))
  for (const ou of missingOus) differences.push(`deployment target ${ou} has no stack instances`)
  for (const region of missingRegions) differences.push(`region ${region} has no stack instances`)
  return { differences, needsUpdate, missingOus, missingRegions }
}

function assessInstances(
  instances: readonly StackInstanceSummary[],
  options: DeployOptions,
  info: (message: string) => void,
  warn: (message: string) => void
): { missingInstances: string[]; failedInstances: FailedInstance[] } {
  const current = new Set(
    instances.filter(i => i.Status === 'CURRENT').flatMap(i => (i.Account ? [i.Account] : []))
  )
  const management = options.managementAccountId
  if (management !== undefined && options.accountsInScope.includes(management)) {
    info(
      `The management account ${management} is never a target of a service-managed StackSet: ` +
        `deploy cfn/member-role.yaml there as a stack (see cfn/README.md).`
    )
  }
  const missingInstances = [...new Set(options.accountsInScope)]
    .filter(account => account !== management && !current.has(account))
    .sort()
  if (missingInstances.length > 0) {
    const shown = missingInstances.slice(0, LISTED_ACCOUNTS).join(', ')
    const more =
      missingInstances.length > LISTED_ACCOUNTS
        ? ` and ${missingInstances.length - LISTED_ACCOUNTS} more`
        : ''
    warn(
      `${plural(missingInstances.length, 'account')} in scope ${missingInstances.length === 1 ? 'has' : 'have'} no CURRENT stack instance of StackSet ` +
        `${options.stackSetName}, so AssumeRole into ${missingInstances.length === 1 ? 'it' : 'them'} will fail: ${shown}${more}. ` +
        `${missingInstances.length === 1 ? 'Is it' : 'Are they'} outside deployment-ous, or did ${missingInstances.length === 1 ? 'its' : 'their'} stack instance fail?`
    )
  }

  const failedInstances = instances
    .filter(i => i.StackInstanceStatus?.DetailedStatus === 'FAILED' || i.Status === 'INOPERABLE')
    .map(i => ({
      account: i.Account ?? '',
      region: i.Region ?? '',
      reason: i.StatusReason ?? i.StackInstanceStatus?.DetailedStatus ?? i.Status ?? 'unknown'
    }))
    .sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region))
  for (const instance of failedInstances) {
    warn(
      `StackSet ${options.stackSetName}: the stack instance in ${instance.account} (${instance.region}) failed: ${instance.reason}`
    )
  }
  return { missingInstances, failedInstances }
}

async function describeStackSet(
  cfn: CloudFormationSender,
  name: string,
  callAs: { CallAs?: CallAs }
): Promise<StackSet | undefined> {
  try {
    const { StackSet: stackSet } = await cfn.send(
      new DescribeStackSetCommand({ StackSetName: name, ...callAs })
    )
    // A deleted StackSet may still be described; its name can be used again.
    return stackSet?.Status === 'DELETED' ? undefined : stackSet
  } catch (error) {
    if (awsErrorCode(error) === 'StackSetNotFoundException') return undefined
    throw error
  }
}

async function listInstances(
  cfn: CloudFormationSender,
  name: string,
  callAs: { CallAs?: CallAs }
): Promise<StackInstanceSummary[]> {
  const instances: StackInstanceSummary[] = []
  let nextToken: string | undefined
  do {
    const page = await cfn.send(
      new ListStackInstancesCommand({ StackSetName: name, NextToken: nextToken, ...callAs })
    )
    instances.push(...(page.Summaries ?? []))
    nextToken = page.NextToken
  } while (nextToken)
  return instances
}

function parameterValues(parameters: MemberRoleParameters): Record<string, string> {
  const values: Record<string, string> = {}
  for (const [key, value] of Object.entries(parameters)) {
    if (typeof value === 'string') values[key] = value
  }
  return values
}

/** An AWS error with what to do about the usual causes. */
function explain(error: unknown): string {
  const message = errorMessage(error)
  const code = awsErrorCode(error)
  if (/not a delegated administrator/i.test(message)) {
    return (
      `${message}. Register the central account as a StackSets delegated administrator, or run ` +
      `from the management account (see cfn/README.md); the central role also needs ` +
      `organizations:ListDelegatedAdministrators.`
    )
  }
  if (code === 'AccessDenied' || code === 'AccessDeniedException') {
    return (
      `${message}. The central role needs the StackSet permissions of cfn/central-github-oidc.yaml ` +
      `(parameter DeployStacks "check" or "apply", StackSetName as here).`
    )
  }
  if (code === 'OperationInProgressException') {
    return `${message}. Another operation runs on the StackSet; the next run tries again.`
  }
  return message
}

function quoted(value: string | undefined): string {
  return value === undefined ? '(none)' : `"${value}"`
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
