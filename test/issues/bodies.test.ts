import { describe, expect, it } from 'vitest'
import { blockedIssue, desiredIssues } from '../../src/issues/bodies.js'
import { codeSpan as code } from '../../src/report/markdown-escape.js'
import {
  fingerprint,
  parseFingerprint,
  parseSubjectMarker,
  subjectMarker
} from '../../src/issues/markers.js'
import { account, action, DEV, key, plan, PROD, user } from '../notify/plan-builders.js'

describe('markers', () => {
  it.each([
    { kind: 'blocked' as const, accountId: '222222222222', userName: 'ci-bot+deploy@x.y=z,w' },
    { kind: 'account-failed' as const, accountId: '333333333333' }
  ])('round-trips %j', subject => {
    const body = `text before\n${subjectMarker(subject)}\ntext after`
    expect(parseSubjectMarker(body)).toEqual(subject)
  })

  it('reads the documented marker format', () => {
    expect(subjectMarker({ kind: 'blocked', accountId: '222222222222', userName: 'ci-bot' })).toBe(
      '<!-- iam-key-rotation:blocked:222222222222:ci-bot -->'
    )
    expect(parseSubjectMarker('no marker')).toBeUndefined()
    expect(parseFingerprint('<!-- iam-key-rotation:fingerprint:00ff -->')).toBe('00ff')
  })

  it('fingerprints do not depend on key order in objects', () => {
    expect(fingerprint({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(
      fingerprint({ b: [1, { d: 3, c: 2 }], a: 1 })
    )
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }))
  })
})

describe('issue bodies', () => {
  it('code spans keep account names from turning into markup or mentions', () => {
    expect(code('@octocat <b>x</b>')).toBe('`@octocat <b>x</b>`')
    expect(code('a`b')).toBe('``a`b``')
    expect(code('a|b', true)).toBe('`a\\|b`')
  })

  it('one issue per blocked user and per failed account, none for the rest', () => {
    const p = plan('audit', [
      account(DEV.id, DEV.name, [
        user(
          'a',
          [key('K1', 95), key('K2', 3)],
          [action('BLOCKED', 'K1', 'ROTATION_BLOCKED_BY_CONFLICT')]
        ),
        user('b', [key('K3', 95)], [action('ROTATE', 'K3', 'EXPIRED_ACTIVE_KEY')])
      ]),
      account(PROD.id, PROD.name, [], 'failed', 'boom'),
      account('444444444444', 'skipped', [], 'skipped')
    ])
    expect(desiredIssues(p).map(i => i.subject)).toEqual([
      { kind: 'blocked', accountId: DEV.id, userName: 'a' },
      { kind: 'account-failed', accountId: PROD.id }
    ])
  })

  it('one issue per user whose records failed verification, with the problem and the fix', () => {
    const u = {
      ...user('forged', [key('K1', 95)], []),
      stateFindings: [
        {
          accessKeyId: 'K1',
          reason: 'STATE_TAMPERED' as const,
          message: 'Recorded rotation state failed verification; it was ignored.',
          problem: 'its signature does not verify'
        }
      ]
    }
    const a = account(DEV.id, DEV.name, [u])
    const [issue] = desiredIssues(plan('enforce', [a]))
    const subject = { kind: 'tampered', accountId: DEV.id, userName: 'forged' }
    expect(issue?.subject).toEqual(subject)
    expect(issue?.title).toContain('state failed verification')
    expect(issue?.body).toContain('`its signature does not verify`')
    expect(issue?.body).toContain('CloudTrail `TagUser`')
    expect(parseSubjectMarker(issue?.body)).toEqual(subject)
  })

  it('carries only the evidence fields, never a secret-looking value slipped into the plan', () => {
    const FAKE_SECRET = 'FAKE/SECRET+ACCESS/KEY0000000000000000000'
    const blocked = action('BLOCKED', 'K1', 'ROTATION_BLOCKED_BY_CONFLICT')
    Object.assign(blocked, { secretAccessKey: FAKE_SECRET })
    const u = user('a', [key('K1', 95), key('K2', 3)], [blocked])
    Object.assign(u, { credentials: FAKE_SECRET })
    const a = account(DEV.id, DEV.name, [u])
    const issue = blockedIssue(plan('enforce', [a]), a, u)
    expect(JSON.stringify(issue)).not.toContain(FAKE_SECRET)
  })
})
