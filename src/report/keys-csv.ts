import { nextAction, withinPolicy, type InventoryUser } from '../plan/key-inventory.js'
import type { PolicyParams } from '../policy/index.js'
import { csvText } from './csv-escape.js'

// keys.csv: the inventory of every key in scope, one row per key (README, "keys.csv").

export const KEY_COLUMNS = [
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
] as const

export type KeyColumn = (typeof KEY_COLUMNS)[number]
export type KeyRow = Record<KeyColumn, string | number>

const DAY_MS = 86_400_000

interface AccountCells {
  readonly accountId: string
  readonly accountName: string
}

/** The header line of keys.csv. */
export function keysCsvHeader(): string {
  return csvText([], KEY_COLUMNS, { header: true })
}

/** Rows as keys.csv lines (no header), every cell escaped for spreadsheets. */
export function keysCsvRows(rows: readonly KeyRow[]): string {
  return rows.length === 0 ? '' : csvText(rows, KEY_COLUMNS)
}

/**
 * One row per key of every user scanned in the account, exempt users and users with nothing to
 * do included, in the users' order; then a row per user the scan could not read.
 */
export function accountKeyRows(
  account: AccountCells,
  users: readonly InventoryUser[],
  failedUsers: readonly { userName: string; error: string }[],
  params: PolicyParams,
  now: Date
): KeyRow[] {
  const rows: KeyRow[] = []
  for (const user of users) {
    for (const key of user.keys) {
      const next = nextAction(key, user, params, now)
      const lastUsed = key.lastUsed
      rows.push({
        ...blankRow(account),
        userName: user.userName,
        // A key known only by its credential report slot has no id here: none is made up.
        accessKeyId: user.idsKnown ? key.accessKeyId : '',
        status: key.status,
        createdAt: key.createdAt.toISOString(),
        ageDays: Math.floor((now.getTime() - key.createdAt.getTime()) / DAY_MS),
        lastUsedAt: lastUsed.kind === 'date' ? lastUsed.at.toISOString() : lastUsed.kind,
        lastUsedService: lastUsed.kind === 'date' ? (lastUsed.service ?? '') : '',
        lastUsedRegion: lastUsed.kind === 'date' ? (lastUsed.region ?? '') : '',
        exempt: user.exempt ? 'yes' : 'no',
        exemptReason: user.exempt ? (user.exemptReason ?? 'exemption-group') : '',
        nextAction: next.type,
        nextActionAt: next.at?.toISOString() ?? '',
        nextActionReason: next.reason ?? '',
        withinPolicy: withinPolicy(key, user, params, now) ? 'yes' : 'no'
      })
    }
  }
  for (const user of failedUsers) {
    rows.push(unscannedRow(account, `user could not be scanned: ${user.error}`, user.userName))
  }
  return rows
}

/**
 * A row for keys the run could not see (an account or user that failed, an account a stopped
 * shard never reached): withinPolicy `unknown`, and why in `note`.
 */
export function unscannedRow(account: AccountCells, note: string, userName = ''): KeyRow {
  return { ...blankRow(account), userName, withinPolicy: 'unknown', note }
}

function blankRow(account: AccountCells): KeyRow {
  const row = Object.fromEntries(KEY_COLUMNS.map(column => [column, ''])) as KeyRow
  return { ...row, accountId: account.accountId, accountName: account.accountName }
}
