import { describe, expect, it } from 'vitest'
import { IdFactory } from '../emulator/random.js'
import { nameFromRecords } from '../../src/scan/account-scan.js'
import type { ReportKey } from '../../src/scan/credential-report.js'
import {
  decodeKeyRecord,
  encodeKeyRecord,
  lifecycleTagKey,
  recordsFromTags
} from '../../src/scan/lifecycle-tags.js'

// Key ids from the emulator's generator: never hand-made key shapes in fixtures.
const ids = new IdFactory(1)
const OLD = ids.accessKeyId('old')
const NEW = ids.accessKeyId('new')

describe('lifecycle tags', () => {
  it('round-trips a record in tag-safe characters', () => {
    const record = {
      createdAt: new Date('2026-08-01T10:00:00Z'),
      rotatedAt: new Date('2026-10-30T10:00:05Z'),
      replacementKeyId: NEW,
      deactivatedAt: new Date('2026-11-09T10:00:00Z')
    }
    const value = encodeKeyRecord(record)
    expect(value).toMatch(/^[\w .:/=+\-@]{1,256}$/)
    expect(decodeKeyRecord(value)).toEqual(record)
  })

  it('ignores malformed fields instead of trusting them', () => {
    expect(
      decodeKeyRecord('rotated=yesterday replacement=<x> junk created=2026-01-01T00:00:00Z')
    ).toEqual({ createdAt: new Date('2026-01-01T00:00:00Z') })
  })

  it('reads only the tool’s tags', () => {
    const records = recordsFromTags(
      new Map([
        ['owner', 'team@example.com'],
        [lifecycleTagKey(OLD), 'deactivated=2026-11-01T00:00:00Z']
      ])
    )
    expect([...records.keys()]).toEqual([OLD])
  })
})

describe('nameFromRecords', () => {
  const report = (createdAt: string, slot: 1 | 2): ReportKey => ({
    slot,
    status: 'Active',
    createdAt: new Date(createdAt),
    lastUsed: { kind: 'never' }
  })

  it('names the old key by creation date and the replacement by rotation time', () => {
    const records = new Map([
      [
        OLD,
        {
          createdAt: new Date('2026-08-01T10:00:00Z'),
          rotatedAt: new Date('2026-10-30T10:00:03Z'),
          replacementKeyId: NEW
        }
      ]
    ])
    const keys = nameFromRecords(
      [report('2026-08-01T10:00:00Z', 1), report('2026-10-30T10:00:01Z', 2)],
      records
    )
    expect(keys?.map(k => k.accessKeyId)).toEqual([OLD, NEW])
  })

  it('gives up when a slot has no record, so the caller lists the keys', () => {
    expect(nameFromRecords([report('2026-08-01T10:00:00Z', 1)], new Map())).toBeUndefined()
  })
})
