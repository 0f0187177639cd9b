import { describe, expect, it } from 'vitest'
import { claimOf, recordMessage } from '../../src/state/signing.js'
import { encodeKeyRecord } from '../../src/scan/lifecycle-tags.js'
import { IdFactory } from '../emulator/random.js'
import { localStateKey } from '../support/state-key.js'

// What the signature of a record covers: the record, and whose key it is about.

const ids = new IdFactory(7)
const KEY = ids.accessKeyId('a')
const OTHER = ids.accessKeyId('b')
const state = localStateKey()
const record = {
  createdAt: new Date('2026-09-01T10:00:00Z'),
  deactivatedAt: new Date('2026-11-01T00:00:00Z')
}
const value = encodeKeyRecord(record)
const subject = { accountId: '222222222222', userName: 'app', accessKeyId: KEY }

async function signedBy(who: typeof subject, text = value) {
  return state.sign(recordMessage(who.accountId, who.userName, who.accessKeyId, text))
}

describe('claimOf', () => {
  it('a record signed for this account, user and key is signed state', async () => {
    const signature = await signedBy(subject)
    expect(claimOf(state, subject, { value, record, signature })).toEqual({
      origin: 'signed',
      record
    })
  })

  it.each([
    ['another user', { ...subject, userName: 'bob' }],
    ['another account', { ...subject, accountId: '333333333333' }],
    ['another key', { ...subject, accessKeyId: OTHER }]
  ])('a signature made for %s does not verify here', async (_what, elsewhere) => {
    const signature = await signedBy(elsewhere)
    const claim = claimOf(state, subject, { value, record, signature })
    expect(claim.origin === 'unverified' && claim.problem).toMatch(/does not verify/)
  })

  it('a record changed after signing does not verify', async () => {
    const signature = await signedBy(subject)
    const changed = value.replace('2026-11-01', '2026-01-01')
    expect(claimOf(state, subject, { value: changed, record, signature }).origin).toBe('unverified')
  })

  it('a signature by another key says which key', async () => {
    const signature = (await signedBy(subject)).replace('test-state-key', 'some-other-key')
    expect(claimOf(state, subject, { value, record, signature })).toMatchObject({
      origin: 'unverified',
      problem: 'it is signed by KMS key some-other-key, not by the state key test-state-key'
    })
  })

  it('an unsigned record is legacy: trustRecords decides how much of it to believe', () => {
    expect(claimOf(state, subject, { value, record })).toEqual({ origin: 'legacy', record })
  })
})
