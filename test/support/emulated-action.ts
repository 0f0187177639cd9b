import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Emulator } from '../emulator/index.js'
import type { Plan } from '../../src/plan/types.js'
import { runAction, type ActionRun, type RunActionOptions } from './run-action.js'

/** The organization inputs every emulated test world answers to. */
export const ORG = { 'organization-id': 'o-a1b2c3d4e5', 'management-account-id': '111111111111' }

/** Ambient credentials of the job: the emulator treats any unknown key as the central role. */
export const AMBIENT_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIDAMBIENTRUNNER000',
  AWS_SECRET_ACCESS_KEY: 'ambient-runner-credentials-not-a-secret'
}

export interface EmulatedRun extends ActionRun {
  plan?: Plan
}

/**
 * Runs dist/index.js against the emulator as a runner would, evaluating as of the emulator's
 * clock. Notifications, issues and stack checks are off unless the inputs turn them on.
 */
export async function runAgainstEmulator(
  emulator: Emulator,
  inputs: Record<string, string>,
  options: Omit<RunActionOptions, 'inputs'> = {}
): Promise<EmulatedRun> {
  const run = await runAction({
    ...options,
    inputs: {
      notify: 'false',
      'open-issues': 'false',
      'deploy-stacks': 'off',
      ...inputs
    },
    env: {
      ...AMBIENT_CREDENTIALS,
      AWS_ENDPOINT_URL: emulator.url,
      ...options.env
    }
  })
  const reportDir = run.outputs['report-dir']
  let plan: Plan | undefined
  if (reportDir) {
    plan = JSON.parse(await readFile(join(reportDir, 'plan.json'), 'utf8')) as Plan
  }
  return { ...run, ...(plan ? { plan } : {}) }
}

/** Every action of a plan with its account and user, for compact assertions. */
export function planActions(plan: Plan) {
  return plan.accounts.flatMap(account =>
    account.users.flatMap(user =>
      user.actions.map(action => ({
        account: account.accountId,
        user: user.userName,
        type: action.type,
        reason: action.reason,
        result: action.result,
        key: action.accessKeyId
      }))
    )
  )
}
