import type {
  CreateStackInstancesCommandInput,
  CreateStackSetCommandInput,
  DescribeStackSetCommandInput,
  DescribeStackSetOperationCommandInput,
  DescribeStacksCommandInput,
  ListStackInstancesCommandInput,
  StackInstanceSummary,
  Stack,
  StackSet,
  UpdateStackSetCommandInput
} from '@aws-sdk/client-cloudformation'
import type { CloudFormationSender } from '../../src/deploy/index.js'

export const WRITE_COMMANDS = new Set([
  'CreateStackSetCommand',
  'UpdateStackSetCommand',
  'CreateStackInstancesCommand',
  'DeleteStackInstancesCommand',
  'DeleteStackSetCommand'
])

interface FakeOperation {
  readonly id: string
  describes: number
  readonly failed: boolean
}

interface FakeStackSet {
  readonly name: string
  templateBody: string
  parameters: Map<string, string>
  capabilities: string[]
  permissionModel: 'SERVICE_MANAGED' | 'SELF_MANAGED'
  autoDeployment: { Enabled: boolean; RetainStacksOnAccountRemoval: boolean }
  readonly ous: Set<string>
  readonly instances: Map<string, StackInstanceSummary>
  readonly operations: Map<string, FakeOperation>
}

export interface SentCommand {
  readonly name: string
  readonly input: Record<string, unknown>
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name })
}

/**
 * A CloudFormation client for tests: `send` dispatches on the command's class name and keeps
 * StackSets, stack instances and operations in memory. OUs resolve to accounts through `ous`.
 * An operation reports RUNNING for `runningDescribes` describes, then its outcome.
 */
export class FakeCloudFormation {
  readonly sent: SentCommand[] = []
  readonly stackSets = new Map<string, FakeStackSet>()
  readonly stacks = new Map<string, Omit<Stack, 'StackName' | 'CreationTime'>>()
  /** Accounts whose stack instance fails, with the reason. */
  readonly failingAccounts = new Map<string, string>()
  /** Commands (by class name) that throw this error. */
  readonly errors = new Map<string, Error>()
  runningDescribes = 1
  pageSize = 2
  private nextId = 1

  constructor(readonly ous: Record<string, readonly string[]>) {}

  get client(): CloudFormationSender {
    return this
  }

  /** Names of the commands sent since `from`. */
  names(from = 0): string[] {
    return this.sent.slice(from).map(c => c.name)
  }

  writes(from = 0): string[] {
    return this.names(from).filter(name => WRITE_COMMANDS.has(name))
  }

  inputsOf(name: string): Record<string, unknown>[] {
    return this.sent.filter(c => c.name === name).map(c => c.input)
  }

  async send(command: { input: unknown }): Promise<unknown> {
    const name = command.constructor.name
    this.sent.push({ name, input: command.input as Record<string, unknown> })
    await Promise.resolve()
    const error = this.errors.get(name)
    if (error) throw error
    return this.dispatch(name, command.input)
  }

  private dispatch(name: string, input: unknown): unknown {
    switch (name) {
      case 'DescribeStackSetCommand':
        return this.describeStackSet(input as DescribeStackSetCommandInput)
      case 'ListStackInstancesCommand':
        return this.listStackInstances(input as ListStackInstancesCommandInput)
      case 'CreateStackSetCommand':
        return this.createStackSet(input as CreateStackSetCommandInput)
      case 'CreateStackInstancesCommand':
        return this.createStackInstances(input as CreateStackInstancesCommandInput)
      case 'UpdateStackSetCommand':
        return this.updateStackSet(input as UpdateStackSetCommandInput)
      case 'DescribeStackSetOperationCommand':
        return this.describeOperation(input as DescribeStackSetOperationCommandInput)
      case 'DescribeStacksCommand':
        return this.describeStacks(input as DescribeStacksCommandInput)
      default:
        throw new Error(`FakeCloudFormation: ${name} is not implemented`)
    }
  }

  /** Seeds a StackSet as if deployed earlier (e.g. by hand, or by an older template). */
  seed(stackSet: {
    name: string
    templateBody: string
    parameters: Record<string, string>
    ous: readonly string[]
    regions: readonly string[]
    permissionModel?: 'SERVICE_MANAGED' | 'SELF_MANAGED'
    autoDeployment?: boolean
  }): void {
    const seeded: FakeStackSet = {
      name: stackSet.name,
      templateBody: stackSet.templateBody,
      parameters: new Map(Object.entries(stackSet.parameters)),
      capabilities: ['CAPABILITY_NAMED_IAM'],
      permissionModel: stackSet.permissionModel ?? 'SERVICE_MANAGED',
      autoDeployment: {
        Enabled: stackSet.autoDeployment ?? true,
        RetainStacksOnAccountRemoval: false
      },
      ous: new Set(),
      instances: new Map(),
      operations: new Map()
    }
    this.stackSets.set(stackSet.name, seeded)
    this.deploy(seeded, stackSet.ous, stackSet.regions, 'seed')
  }

  private stackSet(name: string | undefined): FakeStackSet {
    const stackSet = this.stackSets.get(name ?? '')
    if (!stackSet) throw awsError('StackSetNotFoundException', `StackSet ${name ?? ''} not found`)
    return stackSet
  }

  private describeStackSet(input: DescribeStackSetCommandInput): { StackSet: StackSet } {
    const stackSet = this.stackSet(input.StackSetName)
    return {
      StackSet: {
        StackSetName: stackSet.name,
        Status: 'ACTIVE',
        TemplateBody: stackSet.templateBody,
        Parameters: [...stackSet.parameters].map(([ParameterKey, ParameterValue]) => ({
          ParameterKey,
          ParameterValue
        })),
        Capabilities: [...stackSet.capabilities] as StackSet['Capabilities'],
        PermissionModel: stackSet.permissionModel,
        AutoDeployment: { ...stackSet.autoDeployment },
        OrganizationalUnitIds: [...stackSet.ous],
        Regions: [...new Set([...stackSet.instances.values()].map(i => i.Region ?? ''))]
      }
    }
  }

  private listStackInstances(input: ListStackInstancesCommandInput) {
    const all = [...this.stackSet(input.StackSetName).instances.values()]
    const start = Number(input.NextToken ?? '0')
    const end = start + this.pageSize
    return {
      Summaries: all.slice(start, end),
      ...(end < all.length ? { NextToken: String(end) } : {})
    }
  }

  private createStackSet(input: CreateStackSetCommandInput) {
    const name = input.StackSetName ?? ''
    if (this.stackSets.has(name)) throw awsError('NameAlreadyExistsException', `${name} exists`)
    this.stackSets.set(name, {
      name,
      templateBody: input.TemplateBody ?? '',
      parameters: new Map(
        (input.Parameters ?? []).map(p => [p.ParameterKey ?? '', p.ParameterValue ?? ''])
      ),
      capabilities: [...(input.Capabilities ?? [])],
      permissionModel:
        input.PermissionModel === 'SERVICE_MANAGED' ? 'SERVICE_MANAGED' : 'SELF_MANAGED',
      autoDeployment: {
        Enabled: input.AutoDeployment?.Enabled ?? false,
        RetainStacksOnAccountRemoval: input.AutoDeployment?.RetainStacksOnAccountRemoval ?? false
      },
      ous: new Set(),
      instances: new Map(),
      operations: new Map()
    })
    return { StackSetId: `${name}:0000` }
  }

  private createStackInstances(input: CreateStackInstancesCommandInput) {
    const stackSet = this.stackSet(input.StackSetName)
    const ous = input.DeploymentTargets?.OrganizationalUnitIds ?? []
    return { OperationId: this.deploy(stackSet, ous, input.Regions ?? [], 'create') }
  }

  private updateStackSet(input: UpdateStackSetCommandInput) {
    const stackSet = this.stackSet(input.StackSetName)
    if (input.TemplateBody !== undefined) stackSet.templateBody = input.TemplateBody
    if (input.Parameters) {
      stackSet.parameters = new Map(
        input.Parameters.map(p => [p.ParameterKey ?? '', p.ParameterValue ?? ''])
      )
    }
    if (input.Capabilities) stackSet.capabilities = [...input.Capabilities]
    if (input.AutoDeployment) {
      stackSet.autoDeployment = {
        Enabled: input.AutoDeployment.Enabled ?? false,
        RetainStacksOnAccountRemoval: input.AutoDeployment.RetainStacksOnAccountRemoval ?? false
      }
    }
    const id = this.operationId()
    let failed = false
    for (const instance of stackSet.instances.values()) {
      failed = this.deployInstance(instance, id) || failed
    }
    stackSet.operations.set(id, { id, describes: 0, failed })
    return { OperationId: id }
  }

  private deploy(
    stackSet: FakeStackSet,
    ous: readonly string[],
    regions: readonly string[],
    why: 'seed' | 'create'
  ): string {
    const id = this.operationId()
    let failures = 0
    let count = 0
    for (const ou of ous) {
      stackSet.ous.add(ou)
      for (const account of this.ous[ou] ?? []) {
        for (const region of regions) {
          const instance: StackInstanceSummary = {
            Account: account,
            Region: region,
            OrganizationalUnitId: ou,
            StackSetId: `${stackSet.name}:0000`
          }
          stackSet.instances.set(`${account}/${region}`, instance)
          count += 1
          if (this.deployInstance(instance, id, why === 'seed')) failures += 1
        }
      }
    }
    stackSet.operations.set(id, { id, describes: 0, failed: count > 0 && failures === count })
    return id
  }

  /** Returns true when the instance failed. */
  private deployInstance(
    instance: StackInstanceSummary,
    operationId: string,
    seeding = false
  ): boolean {
    const reason = seeding ? undefined : this.failingAccounts.get(instance.Account ?? '')
    instance.LastOperationId = operationId
    if (reason) {
      instance.Status = 'OUTDATED'
      instance.StackInstanceStatus = { DetailedStatus: 'FAILED' }
      instance.StatusReason = reason
      return true
    }
    instance.Status = 'CURRENT'
    instance.StackInstanceStatus = { DetailedStatus: 'SUCCEEDED' }
    delete instance.StatusReason
    return false
  }

  private describeOperation(input: DescribeStackSetOperationCommandInput) {
    const stackSet = this.stackSet(input.StackSetName)
    const operation = stackSet.operations.get(input.OperationId ?? '')
    if (!operation) throw awsError('OperationNotFoundException', 'no such operation')
    operation.describes += 1
    const running = operation.describes <= this.runningDescribes
    const failedCount = [...stackSet.instances.values()].filter(
      i => i.LastOperationId === operation.id && i.StackInstanceStatus?.DetailedStatus === 'FAILED'
    ).length
    return {
      StackSetOperation: {
        OperationId: operation.id,
        Status: running ? 'RUNNING' : operation.failed ? 'FAILED' : 'SUCCEEDED',
        ...(operation.failed && !running ? { StatusReason: 'All stack instances failed.' } : {}),
        StatusDetails: { FailedStackInstancesCount: failedCount }
      }
    }
  }

  private describeStacks(input: DescribeStacksCommandInput) {
    const stack = this.stacks.get(input.StackName ?? '')
    if (!stack)
      throw awsError('ValidationError', `Stack with id ${input.StackName ?? ''} does not exist`)
    return { Stacks: [{ StackName: input.StackName, ...stack }] }
  }

  private operationId(): string {
    return `op-${this.nextId++}`
  }
}
