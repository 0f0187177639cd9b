import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'
import { readActionYml, REPO_ROOT } from './action-yml.js'
import { testTempDir } from './temp-dirs.js'

export interface ActionRun {
  /**
   * The process's exit code; when a signal ended it (`killWhen`, the timeout), 128 + the
   * signal's number, as a shell or runner reports it: 137 for SIGKILL.
   */
  exitCode: number
  /** The signal that ended the process, if one did. */
  signal: NodeJS.Signals | null
  /** Whether `killWhen` signalled it. */
  killed: boolean
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  workDir: string
}

export interface RunActionOptions {
  /** Inputs by action.yml name; the others get action.yml's defaults, as on a runner. */
  inputs?: Record<string, string>
  env?: Record<string, string>
  /**
   * Working directory (relative report-dir resolves here); by default a fresh temp dir, removed
   * after the test file (KEEP_TEST_RUNS=1 keeps it: see test/support/temp-dirs.ts).
   */
  workDir?: string
  timeoutMs?: number
  /** Also show the action's log lines here as it runs (the demo), each passed through this. */
  echo?: (line: string) => string | undefined
  /**
   * When this settles successfully, the process is killed (SIGKILL) at once, if still running:
   * a crash at that point (e.g. `emulator.crashAfter(...)`). A rejection is ignored.
   */
  killWhen?: Promise<unknown>
  /** The signal `killWhen` sends: SIGKILL (a crash) unless set, e.g. SIGTERM as a runner's timeout does. */
  killSignal?: NodeJS.Signals
}

/**
 * Runs the committed dist/index.js the way a GitHub runner does: every input as INPUT_<NAME>
 * (defaults from action.yml filled in), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and a
 * minimal environment so nothing from this machine leaks in.
 */
export async function runAction(options: RunActionOptions = {}): Promise<ActionRun> {
  const workDir = options.workDir ?? testTempDir('key-rotation-run-')
  const outputFile = join(workDir, 'github-output')
  const summaryFile = join(workDir, 'step-summary.md')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: workDir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: workDir,
    GITHUB_REPOSITORY: 'example-org/key-rotation',
    GITHUB_RUN_ID: '1234567890',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: workDir,
    AWS_EC2_METADATA_DISABLED: 'true',
    // The emulator's clock (its Date header) is deliberately days away from this machine's.
    // The SDK would take that for a skewed runner and, beyond 4 minutes of skew, retry every
    // error as a clock correction (even a NotFound), which no synced runner on AWS sees.
    AWS_DISABLE_CLOCK_SKEW_CORRECTION: 'true',
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    NODE_NO_WARNINGS: '1'
  }
  const inputs = { ...defaultInputs(), ...options.inputs }
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.toUpperCase()}`] = value
  }
  Object.assign(env, options.env)

  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/index.js')], {
    cwd: workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  let pending = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    if (!options.echo) return
    const lines = (pending + chunk).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      const shown = options.echo(line)
      if (shown !== undefined) process.stdout.write(`${shown}\n`)
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    if (options.echo)
      process.stderr.write(
        chunk.replace(
          /^\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?warning was created\)\n/m,
          ''
        )
      )
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => {
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
  let killed = false
  options.killWhen?.then(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      killed = true
      child.kill(options.killSignal ?? 'SIGKILL')
    },
    () => undefined
  )
  const { code, signal } = await exited
  clearTimeout(timeout)

  return {
    exitCode: code ?? 128 + (signal ? constants.signals[signal] : 0),
    signal,
    killed,
    stdout,
    stderr,
    outputs: parseGithubOutput(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    workDir
  }
}

/** action.yml defaults, except expressions (`${{ … }}`), which only a runner can evaluate. */
function defaultInputs(): Record<string, string> {
  const inputs: Record<string, string> = {}
  for (const [name, spec] of Object.entries(readActionYml().inputs)) {
    const value = spec.default ?? ''
    inputs[name] = value.includes('${{') ? '' : value
  }
  return inputs
}

/** Parses the `name<<DELIMITER … DELIMITER` blocks @actions/core writes to GITHUB_OUTPUT. */
export function parseGithubOutput(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match?.[1] || !match[2]) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i] ?? '')
    outputs[match[1]] = value.join('\n')
  }
  return outputs
}

/** The `::error::` lines of a run, decoded. */
export function errorLines(run: ActionRun): string[] {
  return run.stdout
    .split('\n')
    .filter(line => line.startsWith('::error'))
    .map(line =>
      line
        .replace(/^::error[^:]*::/, '')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%')
    )
}

/** The `::warning::` lines of a run, decoded. */
export function warningLines(run: ActionRun): string[] {
  return run.stdout
    .split('\n')
    .filter(line => line.startsWith('::warning'))
    .map(line =>
      line
        .replace(/^::warning[^:]*::/, '')
        .replace(/%0D/g, '\r')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%')
    )
}
