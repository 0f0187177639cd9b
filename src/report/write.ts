import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'csv-stringify/sync'
import type { Plan } from '../plan/types.js'
import { planMarkdown } from './markdown.js'

export interface ReportPaths {
  readonly dir: string
  readonly json: string
  readonly markdown: string
  readonly csv: string
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

/** Writes plan.json, plan.md and plan.csv. None of them ever holds a secret access key. */
export async function writeReports(plan: Plan, dir: string): Promise<ReportPaths> {
  await mkdir(dir, { recursive: true })
  const paths = {
    dir,
    json: join(dir, 'plan.json'),
    markdown: join(dir, 'plan.md'),
    csv: join(dir, 'plan.csv')
  }
  await writeFile(paths.json, `${JSON.stringify(plan, null, 2)}\n`)
  await writeFile(paths.markdown, planMarkdown(plan))
  await writeFile(paths.csv, planCsv(plan))
  return paths
}

/** One row per action, plus one per failed account, for spreadsheets and audits. */
export function planCsv(plan: Plan): string {
  const rows: Record<(typeof CSV_COLUMNS)[number], string | number>[] = []
  for (const account of plan.accounts) {
    const accountCells = { accountId: account.accountId, accountName: account.accountName }
    if (account.status === 'failed') {
      rows.push({ ...blank(), ...accountCells, result: 'failed', error: account.error ?? '' })
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
  }
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS] })
}

function blank(): Record<(typeof CSV_COLUMNS)[number], string> {
  return Object.fromEntries(CSV_COLUMNS.map(column => [column, ''])) as Record<
    (typeof CSV_COLUMNS)[number],
    string
  >
}
