import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { forceRotateUnmatchedEverywhere } from './engine.js'
import { computeTotals } from './plan/build.js'
import { PLAN_SCHEMA_VERSION, type Plan } from './plan/types.js'

export class MergeError extends Error {
  override name = 'MergeError'
}

/** Every plan.json under `dir` (the shard jobs' downloaded artifacts), in path order. */
export async function readShardPlans(dir: string): Promise<{ path: string; plan: Plan }[]> {
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
  return Promise.all(
    paths.map(async path => {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as { schemaVersion?: unknown }
      if (parsed.schemaVersion !== PLAN_SCHEMA_VERSION) {
        throw new MergeError(
          `${path} has plan schema ${JSON.stringify(parsed.schemaVersion)}, expected ${String(PLAN_SCHEMA_VERSION)}.`
        )
      }
      return { path, plan: parsed as Plan }
    })
  )
}

/**
 * One plan from the plans of shard jobs of the same run: accounts in id order, counts
 * recomputed, run-level findings combined. Shards must agree on mode and policy, and no account
 * may appear twice (a sign that the shards of different runs were mixed).
 */
export function mergePlans(shards: readonly { path: string; plan: Plan }[]): Plan {
  const [first] = shards
  if (!first) throw new MergeError('no shard plans to merge')
  const seen = new Map<string, string>()
  for (const { path, plan } of shards) {
    if (plan.mode !== first.plan.mode) {
      throw new MergeError(`${path} is a ${plan.mode} run but ${first.path} is ${first.plan.mode}.`)
    }
    if (JSON.stringify(plan.policy) !== JSON.stringify(first.plan.policy)) {
      throw new MergeError(`${path} and ${first.path} were made with different key policies.`)
    }
    for (const account of plan.accounts) {
      const other = seen.get(account.accountId)
      if (other) {
        throw new MergeError(
          `Account ${account.accountId} is in both ${other} and ${path}: were shards of different runs mixed?`
        )
      }
      seen.set(account.accountId, path)
    }
  }

  const plans = shards.map(shard => shard.plan)
  const accounts = plans
    .flatMap(plan => plan.accounts)
    .sort((a, b) => a.accountId.localeCompare(b.accountId))
  const sum = (pick: (plan: Plan) => number) => plans.reduce((total, plan) => total + pick(plan), 0)
  const merged: Plan = {
    schemaVersion: PLAN_SCHEMA_VERSION,
    runId: first.plan.runId,
    mode: first.plan.mode,
    generatedAt:
      plans
        .map(plan => plan.generatedAt)
        .sort()
        .at(-1) ?? first.plan.generatedAt,
    policy: first.plan.policy,
    timeline: first.plan.timeline,
    accounts,
    warnings: mergedWarnings(plans),
    totals: computeTotals(accounts, first.plan.mode === 'enforce', {
      apiCalls: sum(plan => plan.totals.apiCalls),
      throttledRetries: sum(plan => plan.totals.throttledRetries)
    })
  }
  const withNotifications = plans.flatMap(plan => (plan.notifications ? [plan.notifications] : []))
  if (withNotifications.length > 0) {
    merged.notifications = {
      sent: withNotifications.flatMap(n => n.sent),
      failed: withNotifications.flatMap(n => n.failed),
      unsent: withNotifications.flatMap(n => n.unsent),
      warnings: [...new Set(withNotifications.flatMap(n => n.warnings))]
    }
  }
  const withIssues = plans.flatMap(plan => (plan.issues ? [plan.issues] : []))
  if (withIssues.length > 0) {
    merged.issues = {
      opened: withIssues.flatMap(i => i.opened),
      updated: withIssues.flatMap(i => i.updated),
      closed: withIssues.flatMap(i => i.closed),
      unchanged: withIssues.reduce((total, i) => total + i.unchanged, 0),
      warnings: [...new Set(withIssues.flatMap(i => i.warnings))]
    }
  }
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
function mergedWarnings(plans: readonly Plan[]): string[] {
  const everyShard = (warning: string) => plans.every(plan => plan.warnings.includes(warning))
  const isUserWide = (warning: string) => {
    const userName = /^force-rotate entry "([^":]+)"/.exec(warning)?.[1]
    return userName !== undefined && warning === forceRotateUnmatchedEverywhere(userName)
  }
  return [...new Set(plans.flatMap(plan => plan.warnings))].filter(
    warning => !isUserWide(warning) || everyShard(warning)
  )
}
