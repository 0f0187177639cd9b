import { createReadStream } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { parse } from 'csv-parse'
import { forceRotateUnmatchedEverywhere } from './engine.js'
import { computeTotals } from './plan/build.js'
import { addOutlooks } from './plan/outlook.js'
import {
  PLAN_SCHEMA_VERSION,
  type Plan,
  type PlanAccount,
  type PlanShard,
  type RunPlan
} from './plan/types.js'
import type { KeySpool } from './report/key-spool.js'
import { KEY_COLUMNS, keysCsvRows, unscannedRow, type KeyRow } from './report/keys-csv.js'
import type { AccountSpool } from './report/spool.js'

export class MergeError extends Error {
  override name = 'MergeError'
}

/** Every plan.json under `dir` (the shard jobs' downloaded artifacts), in path order. */
async function findShardPlans(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true })
  } catch (error) {
    throw new MergeError(
      `merge-from "${dir}" cannot be read (${error instanceof Error ? error.message : String(error)}): download the shard reports there first.`
    )
  }
  const paths = entries
    .filter(entry => entry.isFile() && entry.name === 'plan.json')
    .map(entry => join(entry.parentPath, entry.name))
    .sort()
  if (paths.length === 0) {
    throw new MergeError(
      `merge-from "${dir}" holds no plan.json: download the shard reports there first.`
    )
  }
  return paths
}

type ShardHead = Omit<Plan, 'accounts'> & { shard: PlanShard }

/**
 * One plan from the plans of the shard jobs of one run: accounts in id order (streamed into
 * `spool`, one shard in memory at a time), counts recomputed, run-level findings combined.
 * Refuses, naming what is wrong, a set that is not exactly shards 1…N of one workflow run:
 * a plan that is no shard's, a missing or repeated shard, shards of different runs or counts, an
 * account in two shards, a plan with an account it was not given, or one that lacks an account
 * without saying it stopped early. Accounts a stopped shard never reached are listed as failed.
 * The shards' keys.csv (beside each plan.json) go into `keys`, streamed, in account id order.
 */
export async function mergeShardPlans(
  dir: string,
  spool: AccountSpool,
  log: { info(message: string): void },
  keys?: KeySpool
): Promise<{
  plan: RunPlan
  organization: { organizationId: string; managementAccountId: string }
}> {
  const paths = await findShardPlans(dir)
  log.info(`Merging ${paths.length} shard plans from ${dir}:`)
  const heads: { path: string; head: ShardHead }[] = []
  const givenBy = new Map<string, string>()
  const keyWarnings: string[] = []
  for (const path of paths) {
    const plan = await readShardPlan(path)
    const { accounts, ...head } = plan
    const first = heads[0]
    if (first) checkSameRun(first, { path, head })
    const twin = heads.find(other => other.head.shard.index === head.shard.index)
    if (twin) {
      throw new MergeError(
        `Shard ${shardName(head.shard)} is there twice: ${twin.path} and ${path}. Merge one report per shard.`
      )
    }
    for (const id of head.shard.accountIds) {
      const other = givenBy.get(id)
      if (other) {
        throw new MergeError(
          `Account ${id} is in both ${other} and ${path}: were shards of different runs mixed?`
        )
      }
      givenBy.set(id, path)
    }
    const given = new Set(head.shard.accountIds)
    for (const account of accounts) {
      if (!given.has(account.accountId)) {
        throw new MergeError(
          `${path} lists account ${account.accountId}, which its shard (${shardName(head.shard)}) was not given.`
        )
      }
      if (spool.has(account.accountId)) {
        throw new MergeError(`${path} lists account ${account.accountId} twice.`)
      }
      spool.add(account)
    }
    const missing = head.shard.accountIds.filter(id => !spool.has(id))
    if (missing.length > 0 && !head.interrupted) {
      throw new MergeError(
        `${path} lacks ${missing.length} of the accounts its shard (${shardName(head.shard)}) was given (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}) and does not say it stopped early: is it a complete plan of this run?`
      )
    }
    if (keys) {
      const warning = await mergeShardKeys(path, head, keys)
      if (warning) keyWarnings.push(warning)
    }
    for (const id of missing) {
      const account = notReached(id, head)
      spool.add(account)
      // A stopped shard lists the accounts it did not reach in its keys.csv already.
      if (keys && !keys.has(id))
        keys.add(id, keysCsvRows([unscannedRow(account, account.error ?? '')]))
    }
    log.info(`  ${path}: shard ${shardName(head.shard)}, ${head.shard.accountIds.length} accounts`)
    heads.push({ path, head })
  }
  checkComplete(heads)
  const shard = heads[0]?.head.shard
  const plan = mergedPlan(
    heads.map(entry => entry.head),
    spool
  )
  if (keys) plan.keyRows = keys
  plan.warnings.push(...keyWarnings)
  return {
    plan,
    organization: {
      organizationId: shard?.organizationId ?? '',
      managementAccountId: shard?.managementAccountId ?? ''
    }
  }
}

/** Rows of one account kept in memory at most before they go to the spool. */
const KEY_ROWS_PER_CHUNK = 1_000

/**
 * The shard's keys.csv (beside its plan.json) into `keys`, streamed. Refuses one with other
 * columns or with an account the shard was not given. Without one (uploaded without it), each
 * of the shard's accounts gets a row saying its keys are unknown, and the warning is returned.
 */
async function mergeShardKeys(
  planPath: string,
  head: ShardHead,
  keys: KeySpool
): Promise<string | undefined> {
  const path = join(dirname(planPath), 'keys.csv')
  try {
    await stat(path)
  } catch {
    for (const accountId of head.shard.accountIds) {
      keys.add(
        accountId,
        keysCsvRows([
          unscannedRow(
            { accountId, accountName: '' },
            `keys unknown: the report of shard ${shardName(head.shard)} has no keys.csv`
          )
        ])
      )
    }
    return `${planPath} has no keys.csv beside it: keys.csv lists its ${head.shard.accountIds.length} accounts without their keys. Upload the whole report-dir of every shard job.`
  }
  const given = new Set(head.shard.accountIds)
  let header = true
  let pending: { accountId: string; rows: KeyRow[] } | undefined
  const flush = () => {
    if (pending) keys.add(pending.accountId, keysCsvRows(pending.rows))
    pending = undefined
  }
  const records = createReadStream(path).pipe(parse({ relax_column_count: false }))
  for await (const record of records as AsyncIterable<string[]>) {
    if (header) {
      if (record.join(',') !== KEY_COLUMNS.join(',')) {
        throw new MergeError(
          `${path} has the columns ${record.join(',')}, not keys.csv's (${KEY_COLUMNS.join(',')}): were the shards run with another release?`
        )
      }
      header = false
      continue
    }
    const row = Object.fromEntries(
      KEY_COLUMNS.map((column, i) => [column, record[i] ?? ''])
    ) as KeyRow
    const accountId = String(row.accountId)
    if (!given.has(accountId)) {
      throw new MergeError(
        `${path} lists keys of account ${accountId}, which its shard (${shardName(head.shard)}) was not given.`
      )
    }
    if (pending?.accountId !== accountId || pending.rows.length >= KEY_ROWS_PER_CHUNK) flush()
    pending ??= { accountId, rows: [] }
    pending.rows.push(row)
  }
  flush()
  return undefined
}

async function readShardPlan(path: string): Promise<Plan & { shard: PlanShard }> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Plan>
  if (parsed.schemaVersion !== PLAN_SCHEMA_VERSION) {
    throw new MergeError(
      `${path} has plan schema ${JSON.stringify(parsed.schemaVersion)}, expected ${String(PLAN_SCHEMA_VERSION)}.`
    )
  }
  if (!parsed.shard) {
    throw new MergeError(
      `${path} is not the plan of a shard job (it has no "shard"): merge-from takes only the reports of the jobs run with shard: K/N, by this release or later.`
    )
  }
  return parsed as Plan & { shard: PlanShard }
}

function shardName(shard: PlanShard): string {
  return `${shard.index}/${shard.count}`
}

function checkSameRun(
  first: { path: string; head: ShardHead },
  other: { path: string; head: ShardHead }
): void {
  const [a, b] = [first.head, other.head]
  if (a.shard.workflowRunId !== b.shard.workflowRunId) {
    throw new MergeError(
      `${other.path} is from workflow run ${b.shard.workflowRunId} but ${first.path} from run ${a.shard.workflowRunId}: merge the shards of one run only.`
    )
  }
  if (
    a.shard.organizationId !== b.shard.organizationId ||
    a.shard.managementAccountId !== b.shard.managementAccountId
  ) {
    throw new MergeError(
      `${other.path} is of organization ${b.shard.organizationId} (management account ${b.shard.managementAccountId}) but ${first.path} of ${a.shard.organizationId} (${a.shard.managementAccountId}).`
    )
  }
  if (a.shard.count !== b.shard.count) {
    throw new MergeError(
      `${other.path} is shard ${shardName(b.shard)} but ${first.path} is shard ${shardName(a.shard)}: the shards disagree on N.`
    )
  }
  if (a.mode !== b.mode) {
    throw new MergeError(`${other.path} is a ${b.mode} run but ${first.path} is ${a.mode}.`)
  }
  if (JSON.stringify(a.policy) !== JSON.stringify(b.policy)) {
    throw new MergeError(`${other.path} and ${first.path} were made with different key policies.`)
  }
}

/** One plan per shard 1…N (none twice, checked as each is read). */
function checkComplete(heads: readonly { path: string; head: ShardHead }[]): void {
  const count = heads[0]?.head.shard.count ?? 0
  const present = new Set(heads.map(({ head }) => head.shard.index))
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter(i => !present.has(i))
  if (missing.length > 0) {
    throw new MergeError(
      `Shard${missing.length === 1 ? '' : 's'} ${missing.map(i => `${i}/${count}`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing from merge-from: every shard job must upload its report (actions/upload-artifact with if: always()), and the merge job must download them all.`
    )
  }
}

/**
 * An account a stopped shard never reached: skipped with the reason (no account-failed issue:
 * nothing failed in it); the merged plan says the run was stopped, which fails the step.
 */
function notReached(accountId: string, head: ShardHead): PlanAccount {
  const stop = head.interrupted
  return {
    accountId,
    accountName: '',
    status: 'skipped',
    reason: 'NOT_REACHED',
    error: `not processed: shard ${shardName(head.shard)} was stopped (${stop?.signal ?? 'signal'} during ${stop?.phase ?? 'its run'}) before it reached this account.`,
    usersScanned: 0,
    keysScanned: 0,
    users: []
  }
}

function mergedPlan(plans: readonly ShardHead[], accounts: AccountSpool): RunPlan {
  const [first] = plans
  if (!first) throw new MergeError('no shard plans to merge')
  const sum = (pick: (plan: ShardHead) => number) =>
    plans.reduce((total, plan) => total + pick(plan), 0)
  const merged: RunPlan = {
    schemaVersion: PLAN_SCHEMA_VERSION,
    runId: first.runId,
    mode: first.mode,
    generatedAt:
      plans
        .map(plan => plan.generatedAt)
        .sort()
        .at(-1) ?? first.generatedAt,
    policy: first.policy,
    timeline: first.timeline,
    accounts,
    warnings: mergedWarnings(plans),
    totals: computeTotals(accounts, first.mode === 'enforce', {
      apiCalls: sum(plan => plan.totals.apiCalls),
      throttledRetries: sum(plan => plan.totals.throttledRetries)
    })
  }
  const stopped = plans.filter(plan => plan.interrupted)
  const [firstStop] = stopped
  if (firstStop?.interrupted) {
    merged.interrupted = {
      ...firstStop.interrupted,
      phase: `${firstStop.interrupted.phase} of shard ${stopped.map(plan => shardName(plan.shard)).join(', ')}`,
      accountsNotReached: sum(plan => plan.interrupted?.accountsNotReached ?? 0)
    }
  }
  // Every key counted once: the shards' outlooks added up (all or none: a part would mislead).
  const outlooks = plans.flatMap(plan => (plan.outlook ? [plan.outlook] : []))
  const [firstOutlook, ...otherOutlooks] = outlooks
  if (firstOutlook && outlooks.length === plans.length) {
    merged.outlook = otherOutlooks.reduce(addOutlooks, firstOutlook)
  }
  // Mails and issues are the merge job's own (shard jobs send and open none).
  // Every shard checks the same StackSet; the first report stands for all, with the accounts
  // missing an instance gathered from every shard.
  const deployments = plans.flatMap(plan => (plan.deployment ? [plan.deployment] : []))
  const [deployment] = deployments
  if (deployment) {
    merged.deployment = {
      ...deployment,
      missingInstances: [...new Set(deployments.flatMap(d => d.missingInstances))].sort(),
      failedInstances: deployments.flatMap(d => d.failedInstances)
    }
  }
  return merged
}

/**
 * Run-level warnings of all shards, once each. A `USER` force-rotate entry is unmatched only if
 * no shard found the user, so that warning stays only when every shard gave it.
 */
function mergedWarnings(plans: readonly Omit<Plan, 'accounts'>[]): string[] {
  const everyShard = (warning: string) => plans.every(plan => plan.warnings.includes(warning))
  const isUserWide = (warning: string) => {
    const userName = /^force-rotate entry "([^":]+)"/.exec(warning)?.[1]
    return userName !== undefined && warning === forceRotateUnmatchedEverywhere(userName)
  }
  return [...new Set(plans.flatMap(plan => plan.warnings))].filter(
    warning => !isUserWide(warning) || everyShard(warning)
  )
}
