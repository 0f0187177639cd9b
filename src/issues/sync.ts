import type { RunPlan } from '../plan/types.js'
import { errorMessage } from '../util/errors.js'
import {
  changedComment,
  desiredIssues,
  resolvedComment,
  rollupIssue,
  type DesiredIssue
} from './bodies.js'
import type { GitHubClient } from './client.js'
import { parseFingerprint, parseSubjectMarker, subjectKey, type IssueSubject } from './markers.js'

export interface IssueLog {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

export interface RepoRef {
  readonly owner: string
  readonly repo: string
}

export interface IssueSyncOptions {
  /** Label on every issue of the action (issue-label); open issues are found by it. */
  readonly label: string
  /**
   * Accounts this run scanned successfully, in its scope (shard, filters): only their issues may
   * be closed. Defaults to the plan's accounts with status `ok`; an id whose account is not `ok`
   * in the plan is ignored either way.
   */
  readonly scannedAccountIds?: readonly string[]
  /** The run was stopped: no further issue is written. */
  readonly stop?: AbortSignal
  /**
   * Issues opened or updated at most per run (max-new-issues); the problems over it are listed
   * in one roll-up issue instead. Closing an issue is not counted. Unlimited when absent.
   */
  readonly maxNewIssues?: number
}

export interface IssueRef {
  readonly number: number
  readonly title: string
  readonly url: string
  /** e.g. `blocked:222222222222:ci-bot` or `account-failed:222222222222`. */
  readonly key: string
}

export interface IssueSyncResult {
  readonly opened: IssueRef[]
  /** Evidence changed: body updated and one comment added. */
  readonly updated: IssueRef[]
  readonly closed: IssueRef[]
  /** Same evidence: nothing written. */
  readonly unchanged: IssueRef[]
  /** Over max-new-issues: not opened or updated this run, listed in the roll-up issue. */
  readonly deferred: { readonly key: string; readonly title: string }[]
  /** The roll-up issue, when problems were deferred. */
  rollup?: IssueRef
  /** Already logged as warnings; kept for the summary. */
  readonly warnings: string[]
}

interface OpenIssue {
  readonly number: number
  readonly title: string
  readonly url: string
  readonly body: string
  readonly subject: IssueSubject
}

const LABEL_COLOR = 'd93f0b'
const LABEL_DESCRIPTION =
  'Blocked IAM access key rotations and accounts the rotation could not process'

/** The HTTP status of an octokit RequestError, if it is one. */
function httpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    return typeof error.status === 'number' ? error.status : undefined
  }
  return undefined
}

/** 403 without rate limiting, 404 or 410: the token may not write issues here (or they are off). */
function isPermissionError(error: unknown): boolean {
  const status = httpStatus(error)
  if (status === 403) return !/rate limit/i.test(errorMessage(error))
  return status === 404 || status === 410
}

function describe(error: unknown): string {
  const status = httpStatus(error)
  return status === undefined ? errorMessage(error) : `HTTP ${status}: ${errorMessage(error)}`
}

/**
 * Makes the repository's issues match the plan: one open issue per blocked user (account +
 * user) and per failed account. Finds earlier issues by the hidden marker in their body among
 * the open issues carrying `label`; updates one (new body and one comment) only when the
 * fingerprint of its evidence changed; closes one, with a comment, when its problem is gone in an
 * account this run scanned successfully. Never throws for GitHub errors: a token without
 * `issues: write` and other failures become warnings, since issues are a report, not the job.
 */
export async function syncIssues(
  octokit: GitHubClient,
  repo: RepoRef,
  plan: RunPlan,
  options: IssueSyncOptions,
  log: IssueLog
): Promise<IssueSyncResult> {
  const result: IssueSyncResult = {
    opened: [],
    updated: [],
    closed: [],
    unchanged: [],
    deferred: [],
    warnings: []
  }
  const warn = (message: string) => {
    result.warnings.push(message)
    log.warning(message)
  }
  const where = `${repo.owner}/${repo.repo}`
  const desired = desiredIssues(plan)
  const okAccounts = new Map<string, string>()
  for (const account of plan.accounts) {
    if (account.status === 'ok') okAccounts.set(account.accountId, account.accountName)
  }
  const closable = new Set(
    (options.scannedAccountIds ?? [...okAccounts.keys()]).filter(id => okAccounts.has(id))
  )

  let open: Map<string, OpenIssue>
  try {
    open = await listOpenIssues(octokit, repo, options.label, log)
  } catch (error) {
    warn(
      isPermissionError(error)
        ? `Cannot read the issues of ${where} (${describe(error)}): give the job "permissions: issues: write", or set open-issues: false. No issues were opened, updated or closed.`
        : `Cannot list the issues of ${where} (${describe(error)}); no issues were opened, updated or closed.`
    )
    return result
  }

  let denied: { error: unknown } | undefined
  let notMade = 0
  let stopped = 0
  let budget = options.maxNewIssues ?? Infinity
  const deferred: DesiredIssue[] = []
  let labelChecked = false
  /** Runs one write; records a permission failure and skips every write after it. */
  const write = async (what: string, body: () => Promise<void>): Promise<boolean> => {
    if (options.stop?.aborted) {
      stopped++
      return false
    }
    if (denied) {
      notMade++
      return false
    }
    try {
      await body()
      return true
    } catch (error) {
      if (isPermissionError(error)) {
        denied = { error }
        notMade++
      } else {
        warn(`Could not ${what} in ${where}: ${describe(error)}`)
      }
      return false
    }
  }

  for (const issue of desired) {
    const key = subjectKey(issue.subject)
    const existing = open.get(key)
    if (!existing) {
      if (budget <= 0) {
        deferred.push(issue)
        continue
      }
      if (!labelChecked) {
        labelChecked = true
        await ensureLabel(octokit, repo, options.label, warn)
      }
      const made = await write(`open the issue "${issue.title}"`, async () => {
        const { data } = await octokit.rest.issues.create({
          ...repo,
          title: issue.title,
          body: issue.body,
          labels: [options.label]
        })
        result.opened.push({ number: data.number, title: issue.title, url: data.html_url, key })
        log.info(`Opened issue #${data.number}: ${issue.title}`)
      })
      // Only a write that happened spends the budget; one that did not waits in the roll-up.
      if (made) budget--
      else deferred.push(issue)
      continue
    }
    const ref = { number: existing.number, title: issue.title, url: existing.url, key }
    if (parseFingerprint(existing.body) === issue.fingerprint) {
      result.unchanged.push({ ...ref, title: existing.title })
      log.debug(`Issue #${existing.number} unchanged: ${existing.title}`)
      continue
    }
    if (budget <= 0) {
      deferred.push(issue)
      continue
    }
    const updated = await write(`update issue #${existing.number}`, async () => {
      await octokit.rest.issues.update({
        ...repo,
        issue_number: existing.number,
        body: issue.body,
        ...(existing.title !== issue.title ? { title: issue.title } : {})
      })
      await octokit.rest.issues.createComment({
        ...repo,
        issue_number: existing.number,
        body: changedComment(plan, issue)
      })
      result.updated.push(ref)
      log.info(`Updated issue #${existing.number}: the evidence changed (${issue.title})`)
    })
    if (updated) budget--
    else deferred.push(issue)
  }

  const wanted = new Set(desired.map((issue: DesiredIssue) => subjectKey(issue.subject)))
  for (const [key, issue] of open) {
    const subject = issue.subject
    if (subject.kind === 'rollup') continue
    if (wanted.has(key) || !closable.has(subject.accountId)) continue
    const accountName = okAccounts.get(subject.accountId) ?? ''
    await write(`close issue #${issue.number}`, () =>
      closeIssue(
        { octokit, repo, log },
        issue,
        key,
        resolvedComment(plan, subject, accountName),
        result
      )
    )
  }

  result.deferred.push(
    ...deferred.map(issue => ({ key: subjectKey(issue.subject), title: issue.title }))
  )
  // Without write access (or once stopped) there is no roll-up to keep either.
  if (!denied && !options.stop?.aborted) {
    await syncRollup(
      { octokit, repo, label: options.label, log },
      plan,
      deferred,
      open.get('rollup'),
      options.maxNewIssues ?? 0,
      write,
      result
    )
  }
  if (deferred.length > 0) {
    log.info(
      `${deferred.length} issues are over max-new-issues (${options.maxNewIssues}): listed in the roll-up issue, each opened on a later run.`
    )
  }
  if (stopped > 0) {
    warn(
      `The run was stopped: ${stopped} issue ${stopped === 1 ? 'change was' : 'changes were'} not made; the next run makes them.`
    )
  }
  if (denied) {
    warn(
      `The github-token may not write issues in ${where} (${describe(denied.error)}): give the job ` +
        `"permissions: issues: write", or set open-issues: false. ${notMade} issue ${notMade === 1 ? 'change was' : 'changes were'} not made; ` +
        'the key rotation itself is not affected.'
    )
  }
  log.info(
    `Issues: ${result.opened.length} opened, ${result.updated.length} updated, ${result.closed.length} closed, ${result.unchanged.length} unchanged.`
  )
  return result
}

/** Closes an issue as completed, with a comment saying why first. */
async function closeIssue(
  { octokit, repo, log }: { octokit: GitHubClient; repo: RepoRef; log: IssueLog },
  issue: OpenIssue,
  key: string,
  comment: string,
  result: IssueSyncResult
): Promise<void> {
  await octokit.rest.issues.createComment({ ...repo, issue_number: issue.number, body: comment })
  await octokit.rest.issues.update({
    ...repo,
    issue_number: issue.number,
    state: 'closed',
    state_reason: 'completed'
  })
  result.closed.push({ number: issue.number, title: issue.title, url: issue.url, key })
  log.info(`Closed issue #${issue.number}: ${issue.title}`)
}

/**
 * The roll-up issue: opened or updated in place (no comment) while problems are deferred, closed
 * once none is. It is not counted against max-new-issues.
 */
async function syncRollup(
  {
    octokit,
    repo,
    label,
    log
  }: { octokit: GitHubClient; repo: RepoRef; label: string; log: IssueLog },
  plan: RunPlan,
  deferred: readonly DesiredIssue[],
  existing: OpenIssue | undefined,
  maxNewIssues: number,
  write: (what: string, body: () => Promise<void>) => Promise<boolean>,
  result: IssueSyncResult
): Promise<void> {
  if (deferred.length === 0) {
    if (!existing) return
    await write(`close the roll-up issue #${existing.number}`, () =>
      closeIssue(
        { octokit, repo, log },
        existing,
        'rollup',
        `Resolved: run ${plan.runId} found every problem in its own issue. Closing.`,
        result
      )
    )
    return
  }
  const issue = rollupIssue(plan, deferred, maxNewIssues)
  if (!existing) {
    await write('open the roll-up issue', async () => {
      const { data } = await octokit.rest.issues.create({
        ...repo,
        title: issue.title,
        body: issue.body,
        labels: [label]
      })
      result.rollup = { number: data.number, title: issue.title, url: data.html_url, key: 'rollup' }
      log.info(`Opened roll-up issue #${data.number}: ${issue.title}`)
    })
    return
  }
  const ref = { number: existing.number, title: issue.title, url: existing.url, key: 'rollup' }
  if (parseFingerprint(existing.body) === issue.fingerprint) {
    result.rollup = ref
    return
  }
  await write(`update the roll-up issue #${existing.number}`, async () => {
    await octokit.rest.issues.update({
      ...repo,
      issue_number: existing.number,
      body: issue.body,
      title: issue.title
    })
    result.rollup = ref
  })
}

/** Open issues with the label that carry a marker, by subject key; the oldest wins a duplicate. */
async function listOpenIssues(
  octokit: GitHubClient,
  repo: RepoRef,
  label: string,
  log: IssueLog
): Promise<Map<string, OpenIssue>> {
  const issues = await octokit.paginate(octokit.rest.issues.listForRepo, {
    ...repo,
    state: 'open',
    labels: label,
    per_page: 100
  })
  const byKey = new Map<string, OpenIssue>()
  for (const issue of [...issues].sort((a, b) => a.number - b.number)) {
    if (issue.pull_request) continue
    const subject = parseSubjectMarker(issue.body)
    if (!subject) continue
    const key = subjectKey(subject)
    if (byKey.has(key)) {
      log.debug(`Issue #${issue.number} duplicates #${byKey.get(key)?.number}; leaving it alone.`)
      continue
    }
    byKey.set(key, {
      number: issue.number,
      title: issue.title,
      url: issue.html_url,
      body: issue.body ?? '',
      subject
    })
  }
  return byKey
}

/** Creates the label when the repository lacks it; a label created meanwhile (422) is fine. */
async function ensureLabel(
  octokit: GitHubClient,
  repo: RepoRef,
  name: string,
  warn: (message: string) => void
): Promise<void> {
  try {
    await octokit.rest.issues.getLabel({ ...repo, name })
    return
  } catch (error) {
    if (httpStatus(error) !== 404) {
      warn(`Could not check the label "${name}": ${describe(error)}`)
      return
    }
  }
  try {
    await octokit.rest.issues.createLabel({
      ...repo,
      name,
      color: LABEL_COLOR,
      description: LABEL_DESCRIPTION
    })
  } catch (error) {
    if (httpStatus(error) === 422) return
    // Without the label, issues are still opened; a permission problem shows there.
    if (!isPermissionError(error)) warn(`Could not create the label "${name}": ${describe(error)}`)
  }
}
