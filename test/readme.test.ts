import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { readActionYml, REPO_ROOT } from './support/action-yml.js'

const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8')
const action = readActionYml()
const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as {
  name: string
  version: string
}
const changelog = readFileSync(`${REPO_ROOT}CHANGELOG.md`, 'utf8')

interface Step {
  name?: string
  uses?: string
  if?: string
  with?: Record<string, unknown>
}
interface Workflow {
  on: Record<string, unknown>
  jobs: Record<
    string,
    {
      'runs-on': string
      environment?: string
      permissions: Record<string, string>
      steps: Step[]
    }
  >
}

/** The README's first fenced code block: what a reader copies from the Usage section. */
function firstCodeBlock(): { info: string; body: string; offset: number } {
  const match = /^```(\S*)\n([\s\S]*?)^```$/m.exec(readme)
  if (!match) throw new Error('README has no fenced code block')
  return { info: match[1] ?? '', body: match[2] ?? '', offset: match.index }
}

/** The README's table row for a name: `| \`name\` | …`. */
function row(name: string): string[] | undefined {
  const line = readme.split('\n').find(l => l.startsWith(`| \`${name}\` |`))
  return line?.split(' | ').map(cell => cell.replace(/^\| |\|$/g, '').trim())
}

describe('README', () => {
  it.each(Object.entries(action.inputs))('documents input %s with its default', (name, spec) => {
    const cells = row(name)
    expect(cells, `README has no row for input ${name}`).toBeDefined()
    const fallback = spec.default ?? ''
    expect(cells?.[1]).toBe(fallback === '' ? '' : `\`${fallback}\``)
  })

  it.each(Object.keys(action.outputs))('documents output %s', name => {
    expect(row(name)).toBeDefined()
  })

  it('gives the two commands a new user needs, and .ci/run runs the test one', () => {
    expect(readme).toContain('npm ci && npm run demo')
    expect(readme).toContain('npm ci && npm test')
    const ci = readFileSync(`${REPO_ROOT}.ci/run`, 'utf8')
    expect(ci).toMatch(/^npm ci$/m)
    expect(ci).toMatch(/^npm test$/m)
    expect(ci).toMatch(/^npm run check:dist$/m)
  })

  describe('Usage', () => {
    const block = firstCodeBlock()
    const workflow = parse(block.body) as Workflow
    const jobs = Object.values(workflow.jobs)
    const steps = jobs[0]?.steps ?? []
    const actionStep = steps.find(step => step.uses?.includes(`/${pkg.name}@`))
    // YAML drops comments: the version comment is read from the example's own line.
    const usesLine = block.body.split('\n').find(line => line.includes(`/${pkg.name}@`)) ?? ''

    it('opens the README, and holds its first code block, a workflow', () => {
      const headings = readme.split('\n').filter(line => line.startsWith('## '))
      expect(headings[0]).toBe('## Usage')
      expect(block.offset).toBeGreaterThan(readme.indexOf('\n## Usage\n'))
      expect(block.info).toBe('yaml')
    })

    it('is one scheduled and dispatchable job with the permissions the action needs', () => {
      expect(Object.keys(workflow.on).sort()).toEqual(['schedule', 'workflow_dispatch'])
      expect(jobs).toHaveLength(1)
      const job = jobs[0]
      expect(job?.['runs-on']).toBe('ubuntu-latest')
      expect(job?.permissions).toEqual({
        'id-token': 'write',
        contents: 'read',
        issues: 'write'
      })
      expect(job?.environment).toContain('iam-key-rotation')
    })

    it('pins the action to a full commit SHA, commented with the version of package.json', () => {
      expect(actionStep, `no step uses the action (…/${pkg.name}@…)`).toBeDefined()
      expect(actionStep?.uses).toMatch(new RegExp(`^[\\w.-]+/${pkg.name}@[0-9a-f]{40}$`))
      expect(usesLine).toMatch(/@[0-9a-f]{40} # v(\S+)$/)
      expect(usesLine.endsWith(` # v${pkg.version}`)).toBe(true)
    })

    it('gives only inputs of action.yml, and every required one', () => {
      const given = Object.keys(actionStep?.with ?? {})
      expect(given.filter(name => !(name in action.inputs))).toEqual([])
      const required = Object.entries(action.inputs)
        .filter(([, spec]) => spec.required === true)
        .map(([name]) => name)
      expect(required.length).toBeGreaterThan(0)
      expect(required.filter(name => !given.includes(name))).toEqual([])
    })

    it('uploads the report folder even when the action fails', () => {
      const upload = steps.find(step => step.uses?.startsWith('actions/upload-artifact@'))
      expect(upload?.if).toBe('always()')
      expect(upload?.with?.path).toBe(action.inputs['report-dir']?.default)
    })
  })

  it("names package.json's version as the CHANGELOG's newest release", () => {
    const sections = [...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map(m => m[1])
    expect(sections[0]).toBe('Unreleased')
    expect(sections[1]).toBe(pkg.version)
    expect(changelog).toMatch(
      new RegExp(`^## \\[${pkg.version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm')
    )
  })
})
