import {
  deleteDeployment,
  deployTemplate,
  DeploymentError,
  detectDrift,
  driftReads
} from '../cfn-engine.js'
import { decodeToken, pageOf, pageSize } from '../paging.js'
import { ServiceError } from '../protocol/errors.js'
import type { RequestParams, ResponseObject, ResponseValue } from '../protocol/values.js'
import {
  callerAccount,
  operations,
  queryValidationError,
  type QueryServiceDefinition,
  type RequestContext
} from '../service.js'
import {
  getOrCreate,
  type Account,
  type CloudFormationRegionState,
  type EmulatorState,
  type Stack,
  type StackInstance,
  type StackSet,
  type StackSetOperation
} from '../state.js'
import type { WorldStackSet } from '../world.js'

/**
 * CloudFormation (AWS Query): stacks and stack sets, stored in the caller's account and region.
 * Templates are executed by cfn-engine.ts: a stack, or a stack set's instance, creates its IAM
 * and KMS resources in its account. Operations finish at once; DescribeStackSetOperation
 * reports RUNNING the first time it is asked, then the outcome.
 */

const DEFAULT_MAX_RESULTS = 100

const validation = (message: string): ServiceError => new ServiceError('ValidationError', message)

function regionState(account: Account, region: string): CloudFormationRegionState {
  return getOrCreate(account.cloudformation, region, () => ({
    stackSets: new Map(),
    stacks: new Map()
  }))
}

function stackSetNamed(ctx: RequestContext, name: string): StackSet {
  const stackSet = callerAccount(ctx).cloudformation.get(ctx.region)?.stackSets.get(name)
  if (!stackSet) throw new ServiceError('StackSetNotFoundException', `StackSet ${name} not found`)
  return stackSet
}

/** Parameters as sent (`UsePreviousValue` keeps the old value); undefined when none were sent. */
function readParameters(
  params: RequestParams,
  name: string,
  previous: Map<string, string>
): Map<string, string> | undefined {
  const entries = params.structList(name)
  if (entries.length === 0) return undefined
  const result = new Map<string, string>()
  for (const entry of entries) {
    const key = entry.requiredString('ParameterKey')
    if (entry.boolean('UsePreviousValue') === true && !previous.has(key)) {
      // As CloudFormation answers: a previous value must exist to be kept.
      throw new ServiceError(
        'ValidationError',
        `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`
      )
    }
    const value =
      entry.boolean('UsePreviousValue') === true
        ? previous.get(key)
        : entry.string('ParameterValue')
    result.set(key, value ?? '')
  }
  return result
}

function readTags(params: RequestParams): Map<string, string> {
  return new Map(
    params.structList('Tags').map(t => [t.requiredString('Key'), t.string('Value') ?? ''])
  )
}

function parameterList(parameters: Map<string, string>): ResponseObject[] {
  return [...parameters].map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }))
}

function tagList(tags: Map<string, string>): ResponseObject[] {
  return [...tags].map(([Key, Value]) => ({ Key, Value }))
}

function sameMap(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([key, value]) => b.get(key) === value)
}

/** Deploys one stack instance: decides its outcome and, unless a fault is injected, runs the template. */
function deployInstance(
  state: EmulatorState,
  stackSet: StackSet,
  instance: StackInstance,
  now: Date
): void {
  const target = state.accounts.get(instance.accountId)
  const { failInstanceAccounts, inoperableInstanceAccounts } = state.config.cloudformation
  instance.statusReason = undefined
  if (!target) {
    instance.status = 'OUTDATED'
    instance.detailedStatus = 'FAILED'
    instance.statusReason = `Account ${instance.accountId} is not a member of the organization.`
  } else if (target.status === 'SUSPENDED') {
    instance.status = 'OUTDATED'
    instance.detailedStatus = 'SKIPPED_SUSPENDED_ACCOUNT'
  } else if (failInstanceAccounts.has(target.id)) {
    instance.status = 'OUTDATED'
    instance.detailedStatus = 'FAILED'
    instance.statusReason =
      'ResourceLogicalId:MemberRole, ResourceType:AWS::IAM::Role, ResourceStatusReason:Resource handler returned message: "User is not authorized to perform: iam:CreateRole" (injected by the emulator).'
  } else if (inoperableInstanceAccounts.has(target.id)) {
    instance.status = 'INOPERABLE'
    instance.detailedStatus = 'INOPERABLE'
    instance.statusReason = 'The stack instance is inoperable (injected by the emulator).'
  } else {
    const parameters = new Map([...stackSet.parameters, ...instance.parameterOverrides])
    try {
      const deployment = deployTemplate(state, {
        account: target,
        region: instance.region,
        stackName: stackNameOf(instance.stackId),
        stackId: instance.stackId,
        managedBy: `stackset/${stackSet.name}`,
        templateBody: stackSet.templateBody,
        parameters,
        previous: instance.resources,
        now
      })
      instance.resources = deployment.resources
      instance.status = 'CURRENT'
      instance.detailedStatus = 'SUCCEEDED'
    } catch (error) {
      if (!(error instanceof DeploymentError)) throw error
      instance.status = 'OUTDATED'
      instance.detailedStatus = 'FAILED'
      instance.statusReason = error.message
    }
  }
}

function newStackSet(
  state: EmulatorState,
  account: Account,
  region: string,
  fields: Pick<
    StackSet,
    | 'name'
    | 'description'
    | 'templateBody'
    | 'parameters'
    | 'capabilities'
    | 'tags'
    | 'permissionModel'
    | 'autoDeployment'
  >
): StackSet {
  const id = `${fields.name}:${state.ids.uuid()}`
  const stackSet: StackSet = {
    ...fields,
    id,
    arn: `arn:aws:cloudformation:${region}:${account.id}:stackset/${id}`,
    accountId: account.id,
    region,
    organizationalUnitIds: new Set(),
    regions: new Set(),
    instances: new Map(),
    operations: new Map()
  }
  regionState(account, region).stackSets.set(stackSet.name, stackSet)
  return stackSet
}

function newInstance(
  state: EmulatorState,
  stackSet: StackSet,
  accountId: string,
  region: string,
  organizationalUnitId: string | undefined
): StackInstance {
  const instance: StackInstance = {
    accountId,
    region,
    organizationalUnitId,
    stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/StackSet-${stackSet.name}-${state.ids.uuid()}/${state.ids.uuid()}`,
    status: 'OUTDATED',
    detailedStatus: 'PENDING',
    statusReason: undefined,
    lastOperationId: undefined,
    parameterOverrides: new Map(),
    resources: new Map()
  }
  stackSet.instances.set(`${accountId}/${region}`, instance)
  stackSet.regions.add(region)
  return instance
}

/** Seeds a stack set from the world file; CURRENT instances get the member role. */
export function seedStackSet(state: EmulatorState, seed: WorldStackSet, now: Date): void {
  const account = state.accounts.get(seed.accountId ?? state.organization.managementAccountId)
  if (!account) throw new Error(`stack set ${seed.name}: unknown account ${seed.accountId ?? ''}`)
  const region = seed.region ?? 'us-east-1'
  const stackSet = newStackSet(state, account, region, {
    name: seed.name,
    description: seed.description,
    templateBody: seed.templateBody ?? '{}',
    parameters: new Map(Object.entries(seed.parameters ?? {})),
    capabilities: ['CAPABILITY_NAMED_IAM'],
    tags: new Map(),
    permissionModel: seed.permissionModel ?? 'SERVICE_MANAGED',
    autoDeployment:
      seed.autoDeployment === undefined
        ? undefined
        : { enabled: seed.autoDeployment, retainStacksOnAccountRemoval: false }
  })
  for (const target of seed.organizationalUnitIds ?? []) stackSet.organizationalUnitIds.add(target)
  for (const entry of seed.instances ?? []) {
    const parentId = state.accounts.get(entry.account)?.parentId
    const target = seed.organizationalUnitIds?.[0] ?? parentId
    if (target !== undefined && stackSet.permissionModel === 'SERVICE_MANAGED') {
      stackSet.organizationalUnitIds.add(target)
    }
    const instance = newInstance(state, stackSet, entry.account, entry.region ?? region, target)
    const status = entry.status ?? 'CURRENT'
    if (status === 'CURRENT') {
      deployInstance(state, stackSet, instance, now)
    } else {
      instance.status = status
      instance.detailedStatus = status === 'INOPERABLE' ? 'INOPERABLE' : 'FAILED'
    }
  }
}

// ----- deployment targets and operations -----------------------------------------------------

interface Target {
  accountId: string
  organizationalUnitId: string | undefined
}

/** Accounts a request targets: OUs resolved recursively (service-managed), or listed accounts. */
function resolveTargets(ctx: RequestContext, stackSet: StackSet, params: RequestParams): Target[] {
  const targets = params.struct('DeploymentTargets')
  const listed = [...params.stringList('Accounts'), ...(targets?.stringList('Accounts') ?? [])]
  const ouIds = targets?.stringList('OrganizationalUnitIds') ?? []
  if (stackSet.permissionModel === 'SELF_MANAGED' || ouIds.length === 0) {
    return listed.map(accountId => ({ accountId, organizationalUnitId: undefined }))
  }
  const { state } = ctx
  const resolved = new Map<string, Target>()
  for (const ouId of ouIds) {
    if (!state.isParent(ouId)) throw validation(`Organizational unit ${ouId} does not exist.`)
    for (const accountId of state.accountsUnder(ouId)) {
      // Service-managed stack sets never deploy to the management account.
      if (accountId === state.organization.managementAccountId) continue
      if (!resolved.has(accountId))
        resolved.set(accountId, { accountId, organizationalUnitId: ouId })
    }
  }
  const filter = targets?.string('AccountFilterType') ?? 'NONE'
  const listedSet = new Set(listed)
  const all = [...resolved.values()]
  switch (filter) {
    case 'INTERSECTION':
      return all.filter(target => listedSet.has(target.accountId))
    case 'DIFFERENCE':
      return all.filter(target => !listedSet.has(target.accountId))
    case 'UNION':
      return [
        ...all,
        ...listed
          .filter(id => !resolved.has(id))
          .map(accountId => ({ accountId, organizationalUnitId: undefined }))
      ]
    default:
      return all
  }
}

function failureTolerance(params: RequestParams, total: number): number {
  const preferences = params.struct('OperationPreferences')
  const count = preferences?.integer('FailureToleranceCount')
  if (count !== undefined) return count
  const percentage = preferences?.integer('FailureTolerancePercentage')
  return percentage !== undefined ? Math.floor((percentage / 100) * total) : 0
}

/** Runs an operation over instances (already chosen) and records its outcome. */
function runOperation(
  ctx: RequestContext,
  stackSet: StackSet,
  params: RequestParams,
  action: StackSetOperation['action'],
  instances: StackInstance[],
  deploy: (instance: StackInstance) => void
): string {
  const id = params.string('OperationId') ?? ctx.state.ids.uuid()
  if (stackSet.operations.has(id)) {
    throw new ServiceError(
      'OperationIdAlreadyExistsException',
      `The operation ID ${id} already exists.`
    )
  }
  let failures = 0
  for (const instance of instances) {
    deploy(instance)
    instance.lastOperationId = id
    if (instance.detailedStatus === 'FAILED' || instance.detailedStatus === 'INOPERABLE')
      failures += 1
  }
  const failed = failures > failureTolerance(params, instances.length)
  const targets = params.struct('DeploymentTargets')
  stackSet.operations.set(id, {
    id,
    action,
    finalStatus: failed ? 'FAILED' : 'SUCCEEDED',
    describeCount: 0,
    creationTimestamp: ctx.now,
    endTimestamp: ctx.now,
    accounts: [...params.stringList('Accounts'), ...(targets?.stringList('Accounts') ?? [])],
    organizationalUnitIds: targets?.stringList('OrganizationalUnitIds') ?? [],
    regions: [...new Set(instances.map(instance => instance.region))],
    statusReason: failed
      ? `${failures} stack instance(s) failed, more than the failure tolerance allows.`
      : undefined
  })
  return id
}

// ----- stack set operations ------------------------------------------------------------------

function createStackSet(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const name = params.requiredString('StackSetName')
  if (regionState(account, ctx.region).stackSets.has(name)) {
    throw new ServiceError('NameAlreadyExistsException', `StackSet ${name} already exists`)
  }
  const autoDeployment = params.struct('AutoDeployment')
  const stackSet = newStackSet(ctx.state, account, ctx.region, {
    name,
    description: params.string('Description'),
    templateBody: params.requiredString('TemplateBody'),
    parameters: readParameters(params, 'Parameters', new Map()) ?? new Map<string, string>(),
    capabilities: params.stringList('Capabilities'),
    tags: readTags(params),
    permissionModel:
      params.string('PermissionModel') === 'SERVICE_MANAGED' ? 'SERVICE_MANAGED' : 'SELF_MANAGED',
    autoDeployment: autoDeployment && {
      enabled: autoDeployment.boolean('Enabled') ?? false,
      retainStacksOnAccountRemoval: autoDeployment.boolean('RetainStacksOnAccountRemoval') ?? false
    }
  })
  return { StackSetId: stackSet.id }
}

function updateStackSet(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stackSet = stackSetNamed(ctx, params.requiredString('StackSetName'))
  const templateBody = params.string('TemplateBody')
  if (templateBody === undefined && params.boolean('UsePreviousTemplate') !== true) {
    throw validation('Either TemplateBody, TemplateURL or UsePreviousTemplate must be specified.')
  }
  if (templateBody !== undefined) stackSet.templateBody = templateBody
  stackSet.parameters =
    readParameters(params, 'Parameters', stackSet.parameters) ?? stackSet.parameters
  const capabilities = params.stringList('Capabilities')
  if (capabilities.length > 0) stackSet.capabilities = capabilities
  stackSet.description = params.string('Description') ?? stackSet.description
  const autoDeployment = params.struct('AutoDeployment')
  if (autoDeployment) {
    stackSet.autoDeployment = {
      enabled: autoDeployment.boolean('Enabled') ?? false,
      retainStacksOnAccountRemoval: autoDeployment.boolean('RetainStacksOnAccountRemoval') ?? false
    }
  }
  // Without targets, an update reaches every instance; with them, only those instances.
  const regions = new Set(params.stringList('Regions'))
  const targeted = new Set(resolveTargets(ctx, stackSet, params).map(target => target.accountId))
  const hasTargets =
    params.struct('DeploymentTargets') !== undefined || params.stringList('Accounts').length > 0
  const instances = [...stackSet.instances.values()].filter(
    instance =>
      (regions.size === 0 || regions.has(instance.region)) &&
      (!hasTargets || targeted.has(instance.accountId))
  )
  const operationId = runOperation(ctx, stackSet, params, 'UPDATE', instances, instance =>
    deployInstance(ctx.state, stackSet, instance, ctx.now)
  )
  return { OperationId: operationId }
}

function describeStackSet(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stackSet = stackSetNamed(ctx, params.requiredString('StackSetName'))
  return {
    StackSet: {
      StackSetName: stackSet.name,
      StackSetId: stackSet.id,
      Description: stackSet.description,
      Status: 'ACTIVE',
      TemplateBody: stackSet.templateBody,
      Parameters: parameterList(stackSet.parameters),
      Capabilities: stackSet.capabilities,
      Tags: tagList(stackSet.tags),
      StackSetARN: stackSet.arn,
      PermissionModel: stackSet.permissionModel,
      AutoDeployment: stackSet.autoDeployment && {
        Enabled: stackSet.autoDeployment.enabled,
        RetainStacksOnAccountRemoval: stackSet.autoDeployment.retainStacksOnAccountRemoval
      },
      OrganizationalUnitIds: [...stackSet.organizationalUnitIds],
      ManagedExecution: { Active: false },
      Regions: [...stackSet.regions]
    }
  }
}

function deleteStackSet(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stackSet = stackSetNamed(ctx, params.requiredString('StackSetName'))
  if (stackSet.instances.size > 0) {
    throw new ServiceError(
      'StackSetNotEmptyException',
      'StackSet is not empty. Delete all stack instances before deleting the StackSet.'
    )
  }
  callerAccount(ctx).cloudformation.get(ctx.region)?.stackSets.delete(stackSet.name)
  return {}
}

function createStackInstances(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stackSet = stackSetNamed(ctx, params.requiredString('StackSetName'))
  const regions = params.stringList('Regions')
  if (regions.length === 0) throw queryValidationError('Regions')
  const targets = resolveTargets(ctx, stackSet, params)
  if (stackSet.permissionModel === 'SERVICE_MANAGED') {
    const ouIds = params.struct('DeploymentTargets')?.stringList('OrganizationalUnitIds') ?? []
    for (const ouId of ouIds) stackSet.organizationalUnitIds.add(ouId)
  }
  if (
    targets.length === 0 &&
    params.struct('DeploymentTargets') === undefined &&
    params.stringList('Accounts').length === 0
  ) {
    throw validation('Either Accounts or DeploymentTargets must be specified.')
  }
  const overrides =
    readParameters(params, 'ParameterOverrides', new Map()) ?? new Map<string, string>()
  const instances = targets.flatMap(target =>
    regions.map(region => {
      const instance =
        stackSet.instances.get(`${target.accountId}/${region}`) ??
        newInstance(ctx.state, stackSet, target.accountId, region, target.organizationalUnitId)
      instance.parameterOverrides = new Map(overrides)
      return instance
    })
  )
  const operationId = runOperation(ctx, stackSet, params, 'CREATE', instances, instance =>
    deployInstance(ctx.state, stackSet, instance, ctx.now)
  )
  return { OperationId: operationId }
}

function deleteStackInstances(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stackSet = stackSetNamed(ctx, params.requiredString('StackSetName'))
  const regions = new Set(params.stringList('Regions'))
  const targeted = new Set(resolveTargets(ctx, stackSet, params).map(target => target.accountId))
  const retain = params.boolean('RetainStacks') ?? false
  const instances = [...stackSet.instances.values()].filter(
    instance => regions.has(instance.region) && targeted.has(instance.accountId)
  )
  const operationId = runOperation(ctx, stackSet, params, 'DELETE', instances, instance => {
    stackSet.instances.delete(`${instance.accountId}/${instance.region}`)
    const target = ctx.state.accounts.get(instance.accountId)
    if (!retain && target) deleteDeployment(ctx.state, target, instance.resources)
    instance.detailedStatus = 'SUCCEEDED'
  })
  return { OperationId: operationId }
}

function instanceSummary(stackSet: StackSet, instance: StackInstance): ResponseObject {
  return {
    StackSetId: stackSet.id,
    Region: instance.region,
    Account: instance.accountId,
    StackId: instance.stackId,
    Status: instance.status,
    StatusReason: instance.statusReason,
    StackInstanceStatus: { DetailedStatus: instance.detailedStatus },
    OrganizationalUnitId: instance.organizationalUnitId,
    DriftStatus: 'NOT_CHECKED',
    LastOperationId: instance.lastOperationId
  }
}

function listStackInstances(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stackSet = stackSetNamed(ctx, params.requiredString('StackSetName'))
  const account = params.string('StackInstanceAccount')
  const region = params.string('StackInstanceRegion')
  const filters = params.structList('Filters').map(filter => ({
    name: filter.string('Name'),
    values: filter.string('Values')
  }))
  const matching = [...stackSet.instances.values()].filter(
    instance =>
      (account === undefined || instance.accountId === account) &&
      (region === undefined || instance.region === region) &&
      filters.every(({ name, values }) => {
        if (name === 'DETAILED_STATUS') return instance.detailedStatus === values
        if (name === 'LAST_OPERATION_ID') return instance.lastOperationId === values
        return true
      })
  )
  const token = decodeToken(params.string('NextToken'), () => validation('Invalid NextToken.'))
  const size = pageSize(
    params.integer('MaxResults'),
    DEFAULT_MAX_RESULTS,
    ctx.state.config.pageSizes.cloudformation
  )
  const { items, next } = pageOf(matching, token?.offset ?? 0, size)
  return { Summaries: items.map(instance => instanceSummary(stackSet, instance)), NextToken: next }
}

function describeStackInstance(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stackSet = stackSetNamed(ctx, params.requiredString('StackSetName'))
  const account = params.requiredString('StackInstanceAccount')
  const region = params.requiredString('StackInstanceRegion')
  const instance = stackSet.instances.get(`${account}/${region}`)
  if (!instance) {
    throw new ServiceError(
      'StackInstanceNotFoundException',
      `Stack instance for account ${account} and region ${region} not found in StackSet ${stackSet.name}`
    )
  }
  return {
    StackInstance: {
      ...instanceSummary(stackSet, instance),
      ParameterOverrides: parameterList(instance.parameterOverrides)
    }
  }
}

function describeStackSetOperation(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stackSet = stackSetNamed(ctx, params.requiredString('StackSetName'))
  const id = params.requiredString('OperationId')
  const operation = stackSet.operations.get(id)
  if (!operation) throw new ServiceError('OperationNotFoundException', `Operation ${id} not found`)
  operation.describeCount += 1
  const running = operation.describeCount === 1
  const failed = [...stackSet.instances.values()].filter(
    instance => instance.lastOperationId === id && instance.detailedStatus === 'FAILED'
  ).length
  return {
    StackSetOperation: {
      OperationId: operation.id,
      StackSetId: stackSet.id,
      Action: operation.action,
      Status: running ? 'RUNNING' : operation.finalStatus,
      RetainStacks: false,
      CreationTimestamp: operation.creationTimestamp,
      EndTimestamp: running ? undefined : operation.endTimestamp,
      DeploymentTargets: {
        Accounts: operation.accounts.length > 0 ? operation.accounts : undefined,
        OrganizationalUnitIds:
          operation.organizationalUnitIds.length > 0 ? operation.organizationalUnitIds : undefined
      },
      StatusReason: running ? undefined : operation.statusReason,
      StatusDetails: { FailedStackInstancesCount: failed }
    }
  }
}

// ----- stacks --------------------------------------------------------------------------------

/** A stack by name or stack id, in the caller's account and region. */
function findStack(ctx: RequestContext, nameOrId: string): Stack | undefined {
  const stacks = callerAccount(ctx).cloudformation.get(ctx.region)?.stacks
  if (!stacks) return undefined
  const byName = stacks.get(nameOrId)
  if (byName) return byName
  for (const stack of stacks.values()) if (stack.id === nameOrId) return stack
  return undefined
}

function stackView(stack: Stack): ResponseObject {
  return {
    StackId: stack.id,
    StackName: stack.name,
    Description: stack.description,
    Parameters: parameterList(stack.parameters),
    CreationTime: stack.creationTime,
    LastUpdatedTime: stack.lastUpdatedTime,
    StackStatus: stack.status,
    StackStatusReason: stack.statusReason,
    DisableRollback: false,
    Capabilities: stack.capabilities,
    Outputs: [...stack.outputs].map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    Tags: tagList(stack.tags),
    EnableTerminationProtection: false,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' }
  }
}

/** `arn:…:stack/NAME/ID` → NAME. */
function stackNameOf(stackId: string): string {
  return stackId.split('/')[1] ?? stackId
}

/**
 * Creates a stack and runs its template. A template that fails leaves the stack in
 * ROLLBACK_COMPLETE with the reason, and none of its resources, as CloudFormation does.
 */
export function createStackRecord(
  state: EmulatorState,
  account: Account,
  region: string,
  fields: Pick<
    Stack,
    'name' | 'description' | 'templateBody' | 'parameters' | 'capabilities' | 'tags'
  > & {
    now: Date
  }
): Stack {
  const { now, ...rest } = fields
  const stack: Stack = {
    ...rest,
    id: `arn:aws:cloudformation:${region}:${account.id}:stack/${fields.name}/${state.ids.uuid()}`,
    status: 'CREATE_COMPLETE',
    statusReason: undefined,
    creationTime: now,
    lastUpdatedTime: undefined,
    resources: new Map(),
    outputs: new Map()
  }
  regionState(account, region).stacks.set(stack.name, stack)
  try {
    const deployment = deployTemplate(state, {
      account,
      region,
      stackName: stack.name,
      stackId: stack.id,
      managedBy: `stack/${stack.name}`,
      templateBody: stack.templateBody,
      parameters: stack.parameters,
      now
    })
    stack.resources = deployment.resources
    stack.outputs = deployment.outputs
  } catch (error) {
    if (!(error instanceof DeploymentError)) throw error
    stack.status = 'ROLLBACK_COMPLETE'
    stack.statusReason = error.message
  }
  return stack
}

function createStack(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const name = params.requiredString('StackName')
  const stacks = regionState(account, ctx.region).stacks
  if (stacks.has(name))
    throw new ServiceError('AlreadyExistsException', `Stack [${name}] already exists`)
  const stack = createStackRecord(ctx.state, account, ctx.region, {
    name,
    description: params.string('Description'),
    templateBody: params.requiredString('TemplateBody'),
    parameters: readParameters(params, 'Parameters', new Map()) ?? new Map<string, string>(),
    capabilities: params.stringList('Capabilities'),
    tags: readTags(params),
    now: ctx.now
  })
  return { StackId: stack.id }
}

function updateStack(ctx: RequestContext, params: RequestParams): ResponseValue {
  const name = params.requiredString('StackName')
  const stack = findStack(ctx, name)
  if (!stack) throw validation(`Stack [${name}] does not exist`)
  const templateBody = params.string('TemplateBody')
  if (templateBody === undefined && params.boolean('UsePreviousTemplate') !== true) {
    throw validation('Either Template URL or Template Body must be specified.')
  }
  const nextTemplate = templateBody ?? stack.templateBody
  const nextParameters = readParameters(params, 'Parameters', stack.parameters) ?? stack.parameters
  if (nextTemplate === stack.templateBody && sameMap(nextParameters, stack.parameters)) {
    throw validation('No updates are to be performed.')
  }
  try {
    const deployment = deployTemplate(ctx.state, {
      account: callerAccount(ctx),
      region: ctx.region,
      stackName: stack.name,
      stackId: stack.id,
      managedBy: `stack/${stack.name}`,
      templateBody: nextTemplate,
      parameters: nextParameters,
      previous: stack.resources,
      now: ctx.now
    })
    stack.templateBody = nextTemplate
    stack.parameters = nextParameters
    stack.resources = deployment.resources
    stack.outputs = deployment.outputs
    stack.status = 'UPDATE_COMPLETE'
    stack.statusReason = undefined
  } catch (error) {
    if (!(error instanceof DeploymentError)) throw error
    stack.status = 'UPDATE_ROLLBACK_COMPLETE'
    stack.statusReason = error.message
  }
  stack.lastUpdatedTime = ctx.now
  return { StackId: stack.id }
}

function describeStacks(ctx: RequestContext, params: RequestParams): ResponseValue {
  const name = params.string('StackName')
  if (name === undefined) {
    const stacks = callerAccount(ctx).cloudformation.get(ctx.region)?.stacks.values() ?? []
    return { Stacks: [...stacks].map(stackView) }
  }
  const stack = findStack(ctx, name)
  if (!stack) throw validation(`Stack with id ${name} does not exist`)
  return { Stacks: [stackView(stack)] }
}

/** Finished drift detections, by account and id (they complete at once). */
const driftDetections = new WeakMap<EmulatorState, Map<string, ResponseObject>>()

/**
 * DetectStackDrift compares every resource the stack created with its current state. As on AWS,
 * the call itself needs only cloudformation:DetectStackDrift; the detection reads each resource
 * as the caller, and ends DETECTION_FAILED when one of those reads is refused.
 */
function detectStackDrift(ctx: RequestContext, params: RequestParams): ResponseValue {
  const name = params.requiredString('StackName')
  const stack = findStack(ctx, name)
  if (!stack) throw validation(`Stack with id ${name} does not exist`)
  const account = callerAccount(ctx)
  let failure: string | undefined
  for (const { action, resource } of driftReads(stack.resources)) {
    try {
      ctx.authorize({
        action,
        resource: resource.attributes['Arn'] ?? resource.ref,
        resourceAccount: account.id
      })
    } catch (error) {
      failure ??= error instanceof Error ? error.message : String(error)
    }
  }
  const result = detectDrift(account, stack.resources)
  const id = ctx.state.ids.uuid()
  let detections = driftDetections.get(ctx.state)
  if (!detections) driftDetections.set(ctx.state, (detections = new Map<string, ResponseObject>()))
  detections.set(`${account.id}/${id}`, {
    StackId: stack.id,
    StackDriftDetectionId: id,
    ...(failure
      ? { DetectionStatus: 'DETECTION_FAILED', DetectionStatusReason: failure }
      : {
          StackDriftStatus: result.status,
          DetectionStatus: 'DETECTION_COMPLETE',
          DriftedStackResourceCount: result.driftedResources.length
        }),
    Timestamp: ctx.now
  })
  return { StackDriftDetectionId: id }
}

function describeStackDriftDetectionStatus(
  ctx: RequestContext,
  params: RequestParams
): ResponseValue {
  const id = params.requiredString('StackDriftDetectionId')
  const found = driftDetections.get(ctx.state)?.get(`${callerAccount(ctx).id}/${id}`)
  if (!found) throw validation(`Drift detection ${id} does not exist`)
  return found
}

function getTemplate(ctx: RequestContext, params: RequestParams): ResponseValue {
  const name = params.requiredString('StackName')
  const stack = findStack(ctx, name)
  if (!stack) throw validation(`Stack with id ${name} does not exist`)
  return { TemplateBody: stack.templateBody, StagesAvailable: ['Original', 'Processed'] }
}

function deleteStack(ctx: RequestContext, params: RequestParams): ResponseValue {
  const stack = findStack(ctx, params.requiredString('StackName'))
  if (stack) {
    deleteDeployment(ctx.state, callerAccount(ctx), stack.resources)
    callerAccount(ctx).cloudformation.get(ctx.region)?.stacks.delete(stack.name)
  }
  return undefined
}

export const cloudFormationService: QueryServiceDefinition = {
  name: 'cloudformation',
  protocol: 'query',
  xmlNamespace: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
  missingParameter: queryValidationError,
  faultErrors: {
    throttling: () => new ServiceError('Throttling', 'Rate exceeded'),
    internalErrorCode: 'InternalFailure'
  },
  operations: operations({
    CreateStackSet: createStackSet,
    UpdateStackSet: updateStackSet,
    DescribeStackSet: describeStackSet,
    DeleteStackSet: deleteStackSet,
    CreateStackInstances: createStackInstances,
    DeleteStackInstances: deleteStackInstances,
    ListStackInstances: listStackInstances,
    DescribeStackInstance: describeStackInstance,
    DescribeStackSetOperation: describeStackSetOperation,
    CreateStack: createStack,
    UpdateStack: updateStack,
    DescribeStacks: describeStacks,
    GetTemplate: getTemplate,
    DetectStackDrift: detectStackDrift,
    DescribeStackDriftDetectionStatus: describeStackDriftDetectionStatus,
    DeleteStack: deleteStack
  })
}
