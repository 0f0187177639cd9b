import * as core from '@actions/core'
import { getInputs, InputErrors } from './inputs.js'
import { errorMessage } from './util/errors.js'

/** The action: inputs → dependencies → phases → outputs. The only place that fails the step. */
export async function run(): Promise<void> {
  try {
    const config = getInputs()
    core.info(`Mode: ${config.mode}`)
    await Promise.resolve()
  } catch (error) {
    if (error instanceof InputErrors) {
      core.setFailed(error.message)
      return
    }
    core.setFailed(`IAM key rotation failed: ${errorMessage(error)}`)
  }
}
