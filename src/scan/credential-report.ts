import {
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  type IAMClient
} from '@aws-sdk/client-iam'
import { parse } from 'csv-parse/sync'
import type { KeyStatus, LastUsed } from '../policy/index.js'
import { awsErrorCode } from '../util/errors.js'

/** One access key slot of a credential report row; the report carries no key ids. */
export interface ReportKey {
  readonly slot: 1 | 2
  readonly status: KeyStatus
  readonly createdAt: Date
  readonly lastUsed: LastUsed
}

export interface ReportUser {
  readonly userName: string
  readonly arn: string
  readonly keys: readonly ReportKey[]
}

export interface CredentialReport {
  readonly users: readonly ReportUser[]
  /** When AWS generated it (GeneratedTime): it may be reused for up to 4 hours. */
  readonly generatedAt: Date | undefined
}

export interface ReportPollOptions {
  /** Attempts of GenerateCredentialReport before giving up (AWS usually needs a few seconds). */
  readonly attempts?: number
  readonly delayMs?: number
  readonly sleep?: (ms: number) => Promise<void>
}

export class CredentialReportUnavailable extends Error {
  override name = 'CredentialReportUnavailable'
}

const defaultSleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))

/**
 * Generates (or reuses: AWS regenerates at most every 4 hours) the account's credential report
 * and returns its users: every user's keys, status, creation and last-use dates in a few calls.
 */
export async function readCredentialReport(
  iam: IAMClient,
  options: ReportPollOptions = {},
  requested?: Promise<string | undefined>
): Promise<CredentialReport> {
  const attempts = options.attempts ?? 20
  const sleep = options.sleep ?? defaultSleep
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const state = attempt === 1 && requested ? await requested : await generationState(iam)
    if (state === 'COMPLETE') {
      try {
        const report = await iam.send(new GetCredentialReportCommand({}))
        if (!report.Content) throw new CredentialReportUnavailable('the report was empty')
        return {
          users: parseCredentialReport(Buffer.from(report.Content).toString('utf8')),
          generatedAt: report.GeneratedTime
        }
      } catch (error) {
        // Generation finished between the two calls' view of it: wait and ask again.
        if (awsErrorCode(error) !== 'ReportInProgress') throw error
      }
    }
    // The early request already had the directory read as its wait: ask again at once.
    if (!(attempt === 1 && requested)) {
      await sleep(Math.min((options.delayMs ?? 500) * attempt, 5_000))
    }
  }
  throw new CredentialReportUnavailable(
    `the credential report was not ready after ${attempts} attempts`
  )
}

/**
 * Asks IAM to generate the report and returns its state (STARTED, INPROGRESS or COMPLETE).
 * Called early, so the report is generated while the account's other reads run.
 */
export async function generationState(iam: IAMClient): Promise<string | undefined> {
  const { State: state } = await iam.send(new GenerateCredentialReportCommand({}))
  return state
}

type ReportRow = Record<string, string>

/** Parses the credential report CSV. Absent values read "N/A"; the root account row is skipped. */
export function parseCredentialReport(csv: string): ReportUser[] {
  const rows = parse<ReportRow>(csv, { columns: true, skip_empty_lines: true, trim: true })
  return rows
    .filter(row => row.user !== undefined && row.user !== '<root_account>')
    .map(row => ({
      userName: row.user ?? '',
      arn: row.arn ?? '',
      keys: ([1, 2] as const).flatMap(slot => reportKey(row, slot))
    }))
}

function reportKey(row: ReportRow, slot: 1 | 2): ReportKey[] {
  const created = dateOrUndefined(row[`access_key_${slot}_last_rotated`])
  if (!created) return []
  const lastUsedAt = dateOrUndefined(row[`access_key_${slot}_last_used_date`])
  const known = (value: string | undefined) => (value && value !== 'N/A' ? value : undefined)
  const service = known(row[`access_key_${slot}_last_used_service`])
  const region = known(row[`access_key_${slot}_last_used_region`])
  return [
    {
      slot,
      status: row[`access_key_${slot}_active`] === 'true' ? 'Active' : 'Inactive',
      createdAt: created,
      lastUsed: lastUsedAt
        ? {
            kind: 'date',
            at: lastUsedAt,
            ...(service ? { service } : {}),
            ...(region ? { region } : {})
          }
        : { kind: 'never' }
    }
  ]
}

function dateOrUndefined(value: string | undefined): Date | undefined {
  if (value === undefined || value === 'N/A' || value === 'no_information' || value === '') {
    return undefined
  }
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date
}
