import { describe, expect, it } from 'vitest'
import type { PlanAccount } from '../../src/plan/types.js'
import { accountFailureAnnotations } from '../../src/report/annotations.js'
import { account } from '../notify/plan-builders.js'

function failed(n: number): PlanAccount {
  const id = String(100000000000 + n)
  return {
    ...account(id, `acct-${n}`, []),
    status: 'failed',
    error: `AssumeRole: AccessDenied ${n}`
  }
}

describe('annotations for accounts that failed', () => {
  it('none when every account was processed', () => {
    expect(accountFailureAnnotations([account('100000000001', 'ok', [])])).toEqual([])
  })

  it('one titled annotation per failed account, up to ten', () => {
    const annotations = accountFailureAnnotations([
      failed(1),
      account('100000000002', 'ok', []),
      failed(3)
    ])
    expect(annotations).toEqual([
      {
        title: 'Account 100000000001 failed',
        message:
          '100000000001 (acct-1): AssumeRole: AccessDenied 1. The other accounts were processed; the next run tries this one again.'
      },
      expect.objectContaining({ title: 'Account 100000000003 failed' })
    ])
    expect(accountFailureAnnotations(Array.from({ length: 10 }, (_, i) => failed(i)))).toHaveLength(
      10
    )
  })

  it('one full stop after an error that is a sentence already', () => {
    const [annotation] = accountFailureAnnotations([
      { ...failed(1), error: 'Could not assume the role (deploy the template).' }
    ])
    expect(annotation?.message).toBe(
      '100000000001 (acct-1): Could not assume the role (deploy the template). The other accounts were processed; the next run tries this one again.'
    )
  })

  it('folded into one when more than ten failed (GitHub keeps ten per severity)', () => {
    const [folded, ...rest] = accountFailureAnnotations(
      Array.from({ length: 11 }, (_, i) => failed(i))
    )
    expect(rest).toEqual([])
    expect(folded?.title).toBe('11 accounts failed')
    const lines = folded?.message.split('\n') ?? []
    expect(lines[0]).toBe('11 accounts could not be processed; the other accounts were processed.')
    expect(lines.slice(1)).toHaveLength(11)
    expect(lines[11]).toBe('100000000010 (acct-10): AssumeRole: AccessDenied 10')
  })

  it('folds at a lower limit when asked (the step failure takes one error of the ten)', () => {
    const ten = Array.from({ length: 10 }, (_, i) => failed(i))
    expect(accountFailureAnnotations(ten, 9)).toHaveLength(1)
    expect(accountFailureAnnotations(ten.slice(0, 9), 9)).toHaveLength(9)
  })

  it('a folded annotation lists fifty accounts and points to plan.md for the rest', () => {
    const [folded] = accountFailureAnnotations(Array.from({ length: 120 }, (_, i) => failed(i)))
    const lines = folded?.message.split('\n') ?? []
    expect(lines).toHaveLength(52)
    expect(lines.at(-1)).toBe('… and 70 more: see plan.md in the report artifact.')
  })
})
