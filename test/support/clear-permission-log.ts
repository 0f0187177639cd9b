import { randomUUID } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PERMISSION_LOG_ENV } from '../emulator/authz/authorize.js'

/** The marker that says which Vitest run the permission log belongs to. */
export const RUN_MARKER = 'run.json'
/** The same run id, in the environment the test workers inherit. */
export const RUN_ID_ENV = 'IAM_EMULATOR_PERMISSION_RUN_ID'

/**
 * Vitest global setup (main process): every run of the suite records the permissions it used
 * afresh, under a marker with this run's id (which the workers inherit), so the after-suite test
 * can tell a log of this run from one left by an earlier run.
 */
export default function clearPermissionLog(): void {
  const dir = process.env[PERMISSION_LOG_ENV]
  if (!dir) return
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const runId = randomUUID()
  process.env[RUN_ID_ENV] = runId
  writeFileSync(join(dir, RUN_MARKER), JSON.stringify({ runId }))
}
