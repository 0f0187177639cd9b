import { join } from 'node:path'
import { defineConfig } from 'vitest/config'

/** Where the emulators of the suite record the permissions the action used (one file per process). */
const PERMISSION_LOG_DIR = join(import.meta.dirname, 'test-results', 'permissions-used')
// Set here, in the main process, so the global setup sees it too (test.env reaches workers only).
process.env.IAM_EMULATOR_PERMISSION_LOG_DIR = PERMISSION_LOG_DIR

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The JSON results let .ci/run print one plain "N passed, N failed" line at the end.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    env: { IAM_EMULATOR_PERMISSION_LOG_DIR: PERMISSION_LOG_DIR },
    // Runs once, in the main process, before any project: a fresh permission log for this run.
    globalSetup: ['test/support/clear-permission-log.ts'],
    // In each test file: removes the temp folders it made (action runs' work dirs) when it is done.
    setupFiles: ['test/support/remove-temp-dirs.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/after-suite/**'],
          globalSetup: [],
          sequence: { groupOrder: 0 }
        }
      },
      {
        // Runs once the whole suite is done: compares what it used with what cfn/ grants.
        extends: true,
        test: {
          name: 'after-suite',
          include: ['test/after-suite/**/*.test.ts'],
          globalSetup: [],
          sequence: { groupOrder: 1 }
        }
      }
    ]
  }
})
