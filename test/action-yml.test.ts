import { describe, expect, it } from 'vitest'
import { INPUT_NAMES } from '../src/inputs.js'
import { readActionYml } from './support/action-yml.js'

describe('action.yml', () => {
  const action = readActionYml()

  it('declares exactly the inputs src/inputs.ts reads', () => {
    expect(Object.keys(action.inputs).sort()).toEqual([...INPUT_NAMES].sort())
  })

  it('describes every input and output', () => {
    for (const [name, spec] of Object.entries({ ...action.inputs, ...action.outputs })) {
      expect(spec.description, name).toMatch(/\S{3,}/)
    }
  })

  it('declares the outputs of the contract', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(
      [
        'plan-path',
        'report-dir',
        'rotated',
        'deactivated',
        'deleted',
        'warnings',
        'blocked',
        'failed-accounts',
        'has-conflicts'
      ].sort()
    )
  })

  it('runs the committed bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })

  it('requires only the organization and management account', () => {
    const required = Object.entries(action.inputs)
      .filter(([, spec]) => spec.required)
      .map(([name]) => name)
    expect(required.sort()).toEqual(['management-account-id', 'organization-id'])
  })
})
