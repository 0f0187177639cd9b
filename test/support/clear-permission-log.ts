import { rmSync } from 'node:fs'

/** Vitest global setup: every run of the suite records the permissions it used afresh. */
export default function clearPermissionLog(): void {
  const dir = process.env.IAM_EMULATOR_PERMISSION_LOG_DIR
  if (dir) rmSync(dir, { recursive: true, force: true })
}
