import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterEach, describe, expect, it } from 'vitest'
import type { InventoryUser } from '../../src/plan/key-inventory.js'
import { KeySpool } from '../../src/report/key-spool.js'
import {
  KEY_COLUMNS,
  accountKeyRows,
  keysCsvHeader,
  keysCsvRows,
  unscannedRow
} from '../../src/report/keys-csv.js'
import { writeReports } from '../../src/report/write.js'
import {
  DEFAULT_PARAMS,
  NEVER,
  NOW,
  active,
  ago,
  decide,
  inactive,
  user
} from '../policy/builders.js'
import { fixturePlan } from './fixture-plan.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keys-csv-test-'))
  dirs.push(dir)
  return dir
}

const ACCOUNT = { accountId: '222222222222', accountName: '=HYPERLINK("x")' }

function scanned(
  userName: string,
  keys: InventoryUser['keys'],
  extra: Partial<InventoryUser> = {}
): InventoryUser {
  const facts = { ...user([...keys], { exempt: extra.exempt ?? false }), userName }
  return {
    ...facts,
    decision: decide(facts, DEFAULT_PARAMS, NOW),
    idsKnown: true,
    ...extra
  }
}

describe('keys.csv rows', () => {
  const users = [
    scanned('ci-bot', [active('AKIDFAKE01', ago(95)), inactive('AKIDFAKE02', ago(200))]),
    // Known only by credential report slot: the id stays empty, nothing is made up.
    scanned('quiet', [active('slot-1', ago(10), NEVER)], { idsKnown: false }),
    scanned('=cmd', [active('AKIDFAKE03', ago(30))]),
    scanned('breakglass', [active('AKIDFAKE04', ago(400))], {
      exempt: true,
      exemptReason: 'protected-tag'
    })
  ]
  const rows = accountKeyRows(
    ACCOUNT,
    users,
    [{ userName: 'broken', error: 'ListAccessKeys: Throttling' }],
    DEFAULT_PARAMS,
    NOW
  )
  const csv = keysCsvHeader() + keysCsvRows(rows)
  const read = parse<Record<string, string>>(csv, { columns: true })

  it('one row per key of every user, those with nothing to do and exempt ones too, then failed users', () => {
    expect(read.map(r => `${r.userName} ${r.accessKeyId} ${r.status}`)).toEqual([
      'ci-bot AKIDFAKE01 Active',
      'ci-bot AKIDFAKE02 Inactive',
      'quiet  Active',
      "'=cmd AKIDFAKE03 Active",
      'breakglass AKIDFAKE04 Active',
      'broken  '
    ])
  })

  it('has the columns of the README, in order', () => {
    expect(csv.split('\n')[0]).toBe(KEY_COLUMNS.join(','))
    expect(KEY_COLUMNS).toEqual([
      'accountId',
      'accountName',
      'userName',
      'accessKeyId',
      'status',
      'createdAt',
      'ageDays',
      'lastUsedAt',
      'lastUsedService',
      'lastUsedRegion',
      'exempt',
      'exemptReason',
      'nextAction',
      'nextActionAt',
      'nextActionReason',
      'withinPolicy',
      'note'
    ])
  })

  it('says age, dates, exemption, next action and within policy per key', () => {
    const [expired, old, quiet, hostile, exempt, broken] = read
    expect(expired).toMatchObject({
      accountId: '222222222222',
      accountName: '\'=HYPERLINK("x")',
      createdAt: ago(95).toISOString(),
      ageDays: '95',
      lastUsedAt: ago(1).toISOString(),
      exempt: 'no',
      exemptReason: '',
      nextAction: 'ROTATE',
      nextActionAt: NOW.toISOString(),
      nextActionReason: 'EXPIRED_ACTIVE_KEY',
      withinPolicy: 'no'
    })
    // The inactive key is deleted now to free the slot for the rotation.
    expect(old).toMatchObject({ nextAction: 'DELETE', withinPolicy: 'yes' })
    expect(quiet).toMatchObject({
      accessKeyId: '',
      lastUsedAt: 'never',
      nextAction: 'DEACTIVATE',
      nextActionReason: 'UNUSED_EXPIRED_KEY',
      withinPolicy: 'yes'
    })
    expect(hostile).toMatchObject({ userName: "'=cmd", withinPolicy: 'yes', nextAction: 'ROTATE' })
    expect(exempt).toMatchObject({
      exempt: 'yes',
      exemptReason: 'protected-tag',
      nextAction: 'none',
      nextActionAt: '',
      withinPolicy: 'yes'
    })
    expect(broken).toMatchObject({
      withinPolicy: 'unknown',
      note: 'user could not be scanned: ListAccessKeys: Throttling'
    })
  })

  it('names the service and region of the last use when AWS says them', () => {
    const key = {
      ...active('AKIDFAKE05', ago(5)),
      lastUsed: { kind: 'date' as const, at: ago(1), service: 'sts', region: 'eu-west-1' }
    }
    const [row] = accountKeyRows(ACCOUNT, [scanned('svc', [key])], [], DEFAULT_PARAMS, NOW)
    expect(row).toMatchObject({ lastUsedService: 'sts', lastUsedRegion: 'eu-west-1' })
  })
})

describe('keys.csv from the key spool', () => {
  it('is written beside plan.csv: the header, then each account’s rows in report order', () => {
    const dir = tempDir()
    const plan = fixturePlan()
    const order = plan.accounts.map(account => account.accountId)
    const keys = new KeySpool(join(dir, 'keys.spool'), order)
    // Accounts are scanned out of order; the spool puts them back in report order.
    for (const accountId of [...order].reverse()) {
      keys.add(accountId, keysCsvRows([unscannedRow({ accountId, accountName: '@x' }, 'n')]))
    }
    keys.add('000000000000', '')
    const paths = writeReports({ ...plan, keyRows: keys }, join(dir, 'report'))
    expect(paths.keys).toBe(join(dir, 'report', 'keys.csv'))
    const read = parse<Record<string, string>>(readFileSync(paths.keys, 'utf8'), {
      columns: true
    })
    expect(read.map(row => row.accountId)).toEqual(order)
    expect(read.map(row => row.accountName)).toEqual(order.map(() => "'@x"))
    // keyRows are keys.csv's, never plan.json's.
    expect(readFileSync(paths.json, 'utf8')).not.toContain('keyRows')
    // Iterable again (every write of the run reads it anew).
    expect([...keys]).toHaveLength(order.length)
    keys.remove()
  })

  it('holds only the header when the plan has no inventory', () => {
    const dir = tempDir()
    const paths = writeReports(fixturePlan(), dir)
    expect(readFileSync(paths.keys, 'utf8')).toBe(`${KEY_COLUMNS.join(',')}\n`)
  })
})
