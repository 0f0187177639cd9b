import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { PlanAccount, RunPlan } from '../plan/types.js'
import { csvText } from './csv-escape.js'
import { keysCsvHeader } from './keys-csv.js'
import { planMarkdownChunks } from './markdown.js'

export interface ReportPaths {
  readonly dir: string
  readonly json: string
  readonly markdown: string
  readonly csv: string
  /** keys.csv: every key in scope, one row each (the inventory). */
  readonly keys: string
}

const CSV_COLUMNS = [
  'accountId',
  'accountName',
  'userName',
  'owner',
  'accessKeyId',
  'keyStatus',
  'ageDays',
  'lastUsedAt',
  'action',
  'reason',
  'message',
  'dueAt',
  'result',
  'error',
  'newAccessKeyId',
  'secretArn'
] as const

type CsvRow = Record<(typeof CSV_COLUMNS)[number], string | number>

/**
 * Writes plan.json, plan.md, plan.csv and keys.csv, streaming the accounts one at a time (they
 * may come from the run's spools on disk). None of them ever holds a secret access key.
 */
export function writeReports(plan: RunPlan, dir: string): ReportPaths {
  mkdirSync(dir, { recursive: true })
  const paths = {
    dir,
    json: join(dir, 'plan.json'),
    markdown: join(dir, 'plan.md'),
    csv: join(dir, 'plan.csv'),
    keys: join(dir, 'keys.csv')
  }
  writeChunks(paths.json, planJsonChunks(plan))
  writeChunks(paths.markdown, planMarkdownChunks(plan))
  writeChunks(paths.csv, planCsvChunks(plan))
  writeChunks(paths.keys, keysCsvChunks(plan))
  return paths
}

/**
 * plan.json as `JSON.stringify(plan, null, 2)` would write it, the accounts streamed into the
 * place of an empty array. Top-level keys keep the contract's order.
 */
export function* planJsonChunks(plan: RunPlan): Generator<string> {
  // keyRows are keys.csv's, not plan.json's.
  const {
    schemaVersion,
    runId,
    mode,
    generatedAt,
    policy,
    timeline,
    accounts,
    keyRows: _keyRows,
    ...rest
  } = plan
  const skeleton = JSON.stringify(
    { schemaVersion, runId, mode, generatedAt, policy, timeline, accounts: [], ...rest },
    null,
    2
  )
  // The first `"accounts": []` is the top-level key: no string value can hold it unescaped.
  const marker = '"accounts": []'
  const at = skeleton.indexOf(marker)
  yield skeleton.slice(0, at + marker.length - 1)
  let first = true
  for (const account of accounts) {
    // JSON strings hold no raw newline, so re-indenting by lines is exact.
    yield `${first ? '' : ','}\n    ${JSON.stringify(account, null, 2).replace(/\n/g, '\n    ')}`
    first = false
  }
  yield `${first ? '' : '\n  '}]${skeleton.slice(at + marker.length)}\n`
}

/** One row per action, plus one per failed or skipped account, for spreadsheets and audits. */
export function* planCsvChunks(plan: RunPlan): Generator<string> {
  yield csvText([], CSV_COLUMNS, { header: true })
  for (const account of plan.accounts) {
    const rows = accountCsvRows(account)
    if (rows.length > 0) yield csvText(rows, CSV_COLUMNS)
  }
}

/** keys.csv: the header, then the inventory's rows as the run spooled them, account by account. */
export function* keysCsvChunks(plan: RunPlan): Generator<string> {
  yield keysCsvHeader()
  yield* plan.keyRows ?? []
}

function accountCsvRows(account: PlanAccount): CsvRow[] {
  const rows: CsvRow[] = []
  const accountCells = { accountId: account.accountId, accountName: account.accountName }
  if (account.status === 'failed') {
    rows.push({ ...blank(), ...accountCells, result: 'failed', error: account.error ?? '' })
  }
  if (account.status === 'skipped') {
    rows.push({
      ...blank(),
      ...accountCells,
      reason: account.reason ?? '',
      result: 'skipped',
      error: account.error ?? ''
    })
  }
  for (const user of account.users) {
    for (const action of user.actions) {
      const key = user.keys.find(k => k.accessKeyId === action.accessKeyId)
      rows.push({
        ...accountCells,
        userName: user.userName,
        owner: user.owner ?? '',
        accessKeyId: action.accessKeyId,
        keyStatus: key?.status ?? '',
        ageDays: key?.ageDays ?? '',
        lastUsedAt: key?.lastUsedAt ?? '',
        action: action.type,
        reason: action.reason,
        message: action.detail ? `${action.message} ${action.detail}` : action.message,
        dueAt: action.dueAt ?? '',
        result: action.result,
        error: action.error ?? '',
        newAccessKeyId: action.newAccessKeyId ?? '',
        secretArn: action.secretArn ?? ''
      })
    }
  }
  return rows
}

function blank(): Record<(typeof CSV_COLUMNS)[number], string> {
  return Object.fromEntries(CSV_COLUMNS.map(column => [column, ''])) as Record<
    (typeof CSV_COLUMNS)[number],
    string
  >
}

/** Writes the chunks to `path` through a 64 KiB buffer. */
function writeChunks(path: string, chunks: Iterable<string>): void {
  const fd = openSync(path, 'w')
  try {
    let pending: string[] = []
    let pendingBytes = 0
    const flush = () => {
      if (pending.length === 0) return
      writeSync(fd, pending.join(''))
      pending = []
      pendingBytes = 0
    }
    for (const chunk of chunks) {
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes >= 65_536) flush()
    }
    flush()
  } finally {
    closeSync(fd)
  }
}
