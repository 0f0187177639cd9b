import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made = new Set<string>()

/**
 * A fresh folder in the system temp dir, removed by `removeTempDirs()`, which
 * test/support/remove-temp-dirs.ts runs after each test file (not after each test: runs made in
 * a `beforeAll` are read by the tests that follow). Set KEEP_TEST_RUNS=1 to keep them for
 * debugging; each action run's folder is its `workDir`.
 */
export function testTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.add(dir)
  return dir
}

/** Removes every folder `testTempDir` made in this process, unless KEEP_TEST_RUNS=1. */
export function removeTempDirs(): void {
  if (process.env.KEEP_TEST_RUNS === '1') return
  for (const dir of made) {
    rmSync(dir, { recursive: true, force: true })
    made.delete(dir)
  }
}
