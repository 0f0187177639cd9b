import { describe, expect, it } from 'vitest'
import { trustRecords, type KeyRecord, type RecordClaim } from '../../src/policy/index.js'
import { NOW, active, ago, inDays, inactive, usedAt } from './builders.js'

// key-policy.md, "Facts per key": which records are state. Each row names the claim and what
// the policy may follow of it.

const A = active('A', ago(100))
const B = active('B', ago(5))
const I = inactive('I', ago(200), usedAt(ago(40)))

interface Row {
  name: string
  claim: RecordClaim
  /** The record as the policy trusts it; undefined: not state. */
  trusted: KeyRecord | undefined
  /** The finding's problem, when it is not state. */
  problem?: RegExp
  keyId?: string
  legacySecret?: { accessKeyId: string; storedAt: Date }
  /** When signed state began; default before every key here. */
  since?: Date
}

const signed = (record: KeyRecord): RecordClaim => ({ origin: 'signed', record })
const legacy = (record: KeyRecord): RecordClaim => ({ origin: 'legacy', record })

describe('trustRecords', () => {
  it.each<Row>([
    {
      name: 'a signed rotation record that IAM confirms',
      claim: signed({ createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'B' }),
      trusted: { createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'B' }
    },
    {
      name: 'failed signature verification: not state',
      claim: { origin: 'unverified', problem: 'its signature does not verify' },
      trusted: undefined,
      problem: /signature does not verify/
    },
    {
      name: 'a date after now: not state (a user cannot silence their keys with a future date)',
      claim: signed({ createdAt: ago(100), rotatedAt: inDays(365), replacementKeyId: 'B' }),
      trusted: undefined,
      problem: /rotation date .* is in the future/
    },
    {
      name: 'within 5 minutes after now: clock noise, accepted',
      claim: signed({ createdAt: ago(100), deactivatedAt: inDays(0, 60) }),
      trusted: { createdAt: ago(100), deactivatedAt: inDays(0, 60) }
    },
    {
      name: 'a creation date that is not the key’s',
      claim: signed({ createdAt: ago(99) }),
      trusted: undefined,
      problem: /creation date .* is not the key's/
    },
    {
      name: 'rotatedAt that does not match the replacement’s CreateDate (forged "rotated long ago")',
      claim: legacy({ createdAt: ago(100), rotatedAt: ago(60), replacementKeyId: 'B' }),
      trusted: undefined,
      problem: /rotation date .* does not match the creation of B/
    },
    {
      name: 'rotatedAt within 5 minutes of the replacement’s creation',
      claim: signed({ createdAt: ago(100), rotatedAt: ago(5, 240), replacementKeyId: 'B' }),
      trusted: { createdAt: ago(100), rotatedAt: ago(5, 240), replacementKeyId: 'B' }
    },
    {
      name: 'an unsigned record naming a key the user does not have (copied key ids)',
      claim: legacy({ createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'ELSEWHERE' }),
      trusted: undefined,
      problem: /names ELSEWHERE .* not a key of this user/
    },
    {
      name: 'a signed record whose replacement was deleted since: the rotation part is over',
      claim: signed({ createdAt: ago(100), rotatedAt: ago(50), replacementKeyId: 'GONE' }),
      trusted: { createdAt: ago(100) }
    },
    {
      name: 'a replacement older than the key itself',
      keyId: 'B',
      claim: signed({ createdAt: ago(5), rotatedAt: ago(100), replacementKeyId: 'A' }),
      trusted: undefined,
      problem: /is before the key was created/
    },
    {
      name: 'the key named as its own replacement',
      claim: signed({ createdAt: ago(100), rotatedAt: ago(100), replacementKeyId: 'A' }),
      trusted: undefined,
      problem: /names the key itself/
    },
    {
      name: 'an unsigned rotation record that IAM and the earlier version’s secret confirm: state',
      claim: legacy({ createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'B' }),
      legacySecret: { accessKeyId: 'B', storedAt: ago(5, 2) },
      trusted: { createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'B' }
    },
    {
      name: 'an unsigned rotation record IAM agrees with, but no secret confirms (one TagUser call)',
      claim: legacy({ createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'B' }),
      trusted: undefined,
      problem: /unsigned, and the tool's secret does not confirm that B replaced this key/
    },
    {
      name: 'the same, with a secret written long after B was created (a pre-created secret)',
      claim: legacy({ createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'B' }),
      legacySecret: { accessKeyId: 'B', storedAt: ago(1) },
      trusted: undefined,
      problem: /does not confirm/
    },
    {
      name: 'an unsigned rotation to a key created after signed state began: no earlier version wrote it',
      claim: legacy({ createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'B' }),
      legacySecret: { accessKeyId: 'B', storedAt: ago(5) },
      since: ago(10),
      trusted: undefined,
      problem: /created after signed state began/
    },
    {
      name: 'an unsigned record with fields only signed records carry',
      claim: legacy({ createdAt: ago(100), rotationStartedAt: ago(1) }),
      trusted: undefined,
      problem: /only signed records carry/
    },
    {
      name: 'an unsigned creation-only record IAM confirms: state',
      claim: legacy({ createdAt: ago(100) }),
      trusted: { createdAt: ago(100) }
    },
    {
      name: 'an unsigned inactive period: nothing dates it, so its recovery starts again',
      keyId: 'I',
      claim: legacy({ createdAt: ago(200), deactivatedAt: ago(9) }),
      trusted: { createdAt: ago(200) }
    },
    {
      name: 'a legacy record without a creation date: IAM cannot confirm it',
      claim: legacy({ deactivatedAt: ago(20) }),
      keyId: 'I',
      trusted: undefined,
      problem: /no creation date/
    },
    {
      name: 'an inactive key used after its recorded deactivation: that period is over',
      keyId: 'I',
      claim: signed({ createdAt: ago(200), deactivatedAt: ago(90) }),
      trusted: { createdAt: ago(200) }
    },
    {
      name: 'an inactive key last used before its recorded deactivation: kept',
      keyId: 'I',
      claim: signed({ createdAt: ago(200), deactivatedAt: ago(30) }),
      trusted: { createdAt: ago(200), deactivatedAt: ago(30) }
    }
  ])('$name', ({ claim, trusted, problem, keyId = 'A', legacySecret, since = ago(2) }) => {
    const result = trustRecords([A, B, I], { [keyId]: claim }, NOW, {
      ...(legacySecret ? { legacySecret } : {}),
      signedStateSince: since
    })
    expect(result.trusted[keyId]).toEqual(trusted)
    if (problem) {
      expect(result.findings).toHaveLength(1)
      expect(result.findings[0]).toMatchObject({ accessKeyId: keyId, reason: 'STATE_TAMPERED' })
      expect(result.findings[0]?.problem).toMatch(problem)
    } else {
      expect(result.findings).toEqual([])
    }
  })

  it('a legacy record that is state is signed from now on; a stale period is dropped', () => {
    const result = trustRecords(
      [A, B, I],
      {
        A: legacy({ createdAt: ago(100), rotatedAt: ago(5), replacementKeyId: 'B' }),
        I: signed({ createdAt: ago(200), deactivatedAt: ago(90) })
      },
      NOW,
      { legacySecret: { accessKeyId: 'B', storedAt: ago(5) } }
    )
    expect(result.updates).toEqual([
      { accessKeyId: 'A', changes: {}, cause: 'migrated' },
      {
        accessKeyId: 'I',
        changes: {},
        clears: ['deactivatedAt', 'firstSeenInactiveAt'],
        cause: 'seen-active'
      }
    ])
    expect(result.notes).toEqual([
      expect.stringMatching(/I: used on .* its recovery period starts again/)
    ])
  })

  it('ignores the record of a key the user no longer has, without a finding', () => {
    const result = trustRecords([A], { GONE: signed({ createdAt: ago(300) }) }, NOW)
    expect(result).toEqual({ trusted: {}, findings: [], notes: [], updates: [] })
  })
})
