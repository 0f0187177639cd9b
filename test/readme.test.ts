import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readActionYml, REPO_ROOT } from './support/action-yml.js'

const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8')
const action = readActionYml()

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
})
