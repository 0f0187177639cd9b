import {
  DescribeStackDriftDetectionStatusCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  type Stack
} from '@aws-sdk/client-cloudformation'
import { awsErrorCode, errorMessage } from '../util/errors.js'
import type { CloudFormationSender } from './deploy-stacks.js'
import { TEMPLATE_VERSION } from './versions.js'

/**
 * The bootstrap stacks the action cannot update itself (it never changes the role it runs as):
 * each is compared with what this release needs, its template version and the parameters the
 * workflow's inputs imply, and a stack that falls short comes with the exact command that fixes
 * it.
 */

export interface CentralStackSpec {
  readonly name: string
  /** The template under cfn/ the stack was deployed from. */
  readonly templateFile: string
  readonly region: string
  /** Parameter values the workflow's inputs need; the stack's other parameters are kept. */
  readonly wanted: Readonly<Record<string, string>>
  /**
   * Values for a stack that does not exist yet, not compared with a deployed one (the repository
   * a signed-in workflow runs from already matches the deployed trust).
   */
  readonly forNewStack?: Readonly<Record<string, string>>
  /** Outputs the inputs rely on, with the input that names them (KeyArn: kms-key-id). */
  readonly expectedOutputs?: Readonly<Record<string, { value: string; input: string }>>
  /**
   * Parameters whose values are ordered (`off` < `check` < `apply`): a deployed value at or above
   * the wanted one is fine, and the command keeps the higher one.
   */
  readonly atLeast?: Readonly<Record<string, readonly string[]>>
  /** The reading role may run drift detection on the stack (its template grants it). */
  readonly detectDrift?: boolean
}

export interface CentralStackState {
  readonly name: string
  readonly status: string
  readonly reason?: string
  /** The stack's TemplateVersion output; absent before version 2. */
  readonly templateVersion?: string
  /** What falls short: an older template, parameters that do not match the inputs. */
  readonly problems?: string[]
  /** The command that brings the stack to what this release needs. */
  readonly fix?: string
  /** IN_SYNC or DRIFTED (changed outside CloudFormation); absent when not checked. */
  readonly drift?: string
}

/** A value as one shell word. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

export function deployCommand(
  spec: CentralStackSpec,
  parameters: Readonly<Record<string, string>>
): string {
  const overrides = Object.entries(parameters)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => shellWord(`${key}=${value}`))
  return [
    'aws cloudformation deploy',
    `--stack-name ${shellWord(spec.name)}`,
    `--template-file cfn/${spec.templateFile}`,
    '--capabilities CAPABILITY_NAMED_IAM',
    `--region ${spec.region}`,
    ...(overrides.length > 0 ? [`--parameter-overrides ${overrides.join(' ')}`] : [])
  ].join(' ')
}

/** Compares a described stack (undefined: it does not exist) with the spec. */
export function assessCentralStack(
  spec: CentralStackSpec,
  stack: Stack | undefined
): CentralStackState {
  if (!stack) {
    return {
      name: spec.name,
      status: 'MISSING',
      problems: [
        `stack ${spec.name} does not exist in ${spec.region} (cfn/README.md; if it was deployed in another region, deploy it here instead or name it)`
      ],
      fix: deployCommand(spec, { ...spec.forNewStack, ...spec.wanted })
    }
  }
  const status = stack.StackStatus ?? 'UNKNOWN'
  const reason = stack.StackStatusReason
  const version = stack.Outputs?.find(output => output.OutputKey === 'TemplateVersion')?.OutputValue
  const deployed = Object.fromEntries(
    (stack.Parameters ?? []).flatMap(p =>
      p.ParameterKey ? [[p.ParameterKey, p.ParameterValue ?? '']] : []
    )
  )
  const problems: string[] = []
  if (version === undefined || Number(version) < TEMPLATE_VERSION) {
    problems.push(
      `deployed from cfn/${spec.templateFile} version ${version ?? '1 (no TemplateVersion output)'}; this release needs version ${TEMPLATE_VERSION}`
    )
  }
  const wanted: Record<string, string> = { ...spec.wanted }
  for (const [key, value] of Object.entries(spec.wanted)) {
    if (!(key in deployed) || deployed[key] === value) continue
    const order = spec.atLeast?.[key]
    const current = deployed[key] ?? ''
    if (order && order.indexOf(current) >= order.indexOf(value)) {
      wanted[key] = current
      continue
    }
    problems.push(`parameter ${key} is "${current}", the inputs need "${value}"`)
  }
  const needsDeploy = problems.length > 0
  for (const [key, { value, input }] of Object.entries(spec.expectedOutputs ?? {})) {
    const actual = stack.Outputs?.find(output => output.OutputKey === key)?.OutputValue
    if (actual !== undefined && actual !== value) {
      problems.push(
        `its output ${key} is "${actual}" but input ${input} is "${value}": set ${input} to it`
      )
    }
  }
  return {
    name: spec.name,
    status,
    ...(reason ? { reason } : {}),
    ...(version !== undefined ? { templateVersion: version } : {}),
    ...(problems.length > 0 ? { problems } : {}),
    ...(needsDeploy ? { fix: deployCommand(spec, { ...deployed, ...wanted }) } : {})
  }
}

/**
 * Describes each stack (with credentials that may read it) and compares it with the spec.
 * Problems are warnings: the run goes on, and the report carries the command that fixes them.
 */
export interface DriftWait {
  readonly sleep?: (ms: number) => Promise<void>
  /** Polls of the detection status before giving up (one a second at first). */
  readonly polls?: number
}

/**
 * Runs drift detection on a stack: IN_SYNC or DRIFTED with the number of resources changed by
 * hand, or undefined when it could not run (an older template does not grant it) or took too long.
 */
async function stackDrift(
  cfn: CloudFormationSender,
  name: string,
  wait: DriftWait
): Promise<{ status: string; drifted: number } | undefined> {
  const sleep =
    wait.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)))
  try {
    const { StackDriftDetectionId: id } = await cfn.send(
      new DetectStackDriftCommand({ StackName: name })
    )
    for (let poll = 0; poll < (wait.polls ?? 20); poll++) {
      const status = await cfn.send(
        new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId: id })
      )
      if (status.DetectionStatus === 'DETECTION_COMPLETE') {
        return {
          status: status.StackDriftStatus ?? 'UNKNOWN',
          drifted: status.DriftedStackResourceCount ?? 0
        }
      }
      if (status.DetectionStatus === 'DETECTION_FAILED') return undefined
      await sleep(Math.min(1_000 * 2 ** poll, 5_000))
    }
  } catch {
    // Drift is an extra: a role without the permission still gets the version check.
  }
  return undefined
}

export async function checkBootstrapStacks(
  cfn: CloudFormationSender,
  specs: readonly CentralStackSpec[],
  warn: (message: string) => void,
  wait: DriftWait = {}
): Promise<CentralStackState[]> {
  const states: CentralStackState[] = []
  for (const spec of specs) {
    let state: CentralStackState
    try {
      const { Stacks: stacks } = await cfn.send(new DescribeStacksCommand({ StackName: spec.name }))
      state = assessCentralStack(spec, stacks?.[0])
    } catch (error) {
      if (awsErrorCode(error) === 'ValidationError' && /does not exist/.test(errorMessage(error))) {
        state = assessCentralStack(spec, undefined)
      } else {
        states.push({ name: spec.name, status: 'UNKNOWN', reason: errorMessage(error) })
        warn(`Could not read stack ${spec.name}: ${errorMessage(error)}`)
        continue
      }
    }
    if (spec.detectDrift && state.status !== 'MISSING' && /_COMPLETE$/.test(state.status)) {
      const drift = await stackDrift(cfn, spec.name, wait)
      if (drift) {
        state = { ...state, drift: drift.status }
        if (drift.status === 'DRIFTED') {
          state = {
            ...state,
            problems: [
              ...(state.problems ?? []),
              `${drift.drifted} of its resources were changed outside CloudFormation (aws cloudformation describe-stack-resource-drifts --stack-name ${spec.name} shows how); undo the change, or redeploy it on purpose`
            ]
          }
        }
      }
    }
    states.push(state)
    const { status, reason } = state
    if (status !== 'MISSING' && (!/_COMPLETE$/.test(status) || /ROLLBACK|DELETE/.test(status))) {
      warn(`Stack ${spec.name} is ${status}${reason ? ` (${reason})` : ''}.`)
    }
    if (state.problems) {
      const fix = state.fix
        ? ` Fix, with that account's administrator credentials: ${state.fix}`
        : ''
      warn(`Stack ${spec.name}: ${state.problems.join('; ')}.${fix}`)
    }
  }
  return states
}
