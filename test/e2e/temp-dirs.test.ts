import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import config from '../../vitest.config.js'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { ORG, runAgainstEmulator } from '../support/emulated-action.js'
import { asDeployed, demoWorld } from '../support/emulator-clients.js'
import { removeTempDirs } from '../support/temp-dirs.js'

/**
 * The suite runs the action some 150 times, each in a folder of its own: those folders go when
 * each test file is done, so a test run leaves the system temp dir as it found it.
 */
describe('the temp folders of the e2e runs', () => {
  let emulator: Emulator
  // A temp dir of this test's own, so the parallel test files' runs do not blur the count.
  const systemTmp = process.env.TMPDIR
  let isolated: string
  beforeAll(async () => {
    emulator = await startEmulator({ world: asDeployed(demoWorld()) })
    isolated = mkdtempSync(join(tmpdir(), 'temp-dirs-test-'))
    process.env.TMPDIR = isolated
  })
  afterAll(async () => {
    if (systemTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = systemTmp
    rmSync(isolated, { recursive: true, force: true })
    await emulator.close()
  })

  const runDirs = () => readdirSync(isolated).filter(name => name.startsWith('key-rotation-run-'))

  it('are removed after the test file, once the tests that read them are done', async () => {
    expect(runDirs()).toEqual([])
    const run = await runAgainstEmulator(emulator, { ...ORG })
    // The demo world has an account without the member role: the run reports it and exits 1.
    expect(run.outputs['report-dir']).toBeDefined()
    expect(run.workDir.startsWith(isolated)).toBe(true)
    // Still there for the rest of the file: tests read reports of runs made in a beforeAll.
    expect(existsSync(join(run.workDir, 'github-output'))).toBe(true)
    expect(run.plan).toBeDefined()
    expect(runDirs()).toHaveLength(1)

    removeTempDirs() // what test/support/remove-temp-dirs.ts does after each test file
    expect(runDirs()).toEqual([])
    expect(readdirSync(isolated)).toEqual([])
  })

  it('KEEP_TEST_RUNS=1 keeps them, for debugging', async () => {
    const run = await runAgainstEmulator(emulator, { ...ORG, mode: 'audit' })
    process.env.KEEP_TEST_RUNS = '1'
    try {
      removeTempDirs()
      expect(existsSync(run.workDir)).toBe(true)
    } finally {
      delete process.env.KEEP_TEST_RUNS
    }
    removeTempDirs()
    expect(existsSync(run.workDir)).toBe(false)
  })

  it('is a setup file of every test file', () => {
    expect(config.test?.setupFiles).toContain('test/support/remove-temp-dirs.ts')
  })
})
