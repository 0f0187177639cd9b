import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createGitHubClient, type GitHubClient } from '../../src/issues/client.js'
import { parseFingerprint, parseSubjectMarker } from '../../src/issues/markers.js'
import { syncIssues, type IssueLog } from '../../src/issues/sync.js'
import type { Plan } from '../../src/plan/types.js'
import {
  account,
  action,
  DAY_MS,
  DEV,
  inDays,
  key,
  NOW,
  plan,
  PROD,
  user
} from '../notify/plan-builders.js'
import { FakeGitHub } from './fake-github.js'

const LABEL = 'iam-key-rotation'
const DEV_BLOCKED_MARKER = '<!-- iam-key-rotation:blocked:222222222222:ci-bot -->'

let github: FakeGitHub
let octokit: GitHubClient
let lines: { info: string[]; warning: string[]; debug: string[] }
let log: IssueLog

beforeEach(async () => {
  github = new FakeGitHub()
  await github.start()
  lines = { info: [], warning: [], debug: [] }
  log = {
    info: m => lines.info.push(m),
    warning: m => lines.warning.push(m),
    debug: m => lines.debug.push(m)
  }
  octokit = createGitHubClient('test-token', {
    log,
    baseUrl: github.baseUrl,
    retries: 1,
    retryAfterBaseValue: 1,
    throttle: false
  })
})

afterEach(async () => {
  await github.stop()
})

/** dev: ci-bot blocked (two active keys, one expired); prod: fine. */
function blockedPlan(
  options: { now?: Date; secondKey?: 'Active' | 'Inactive' | 'new'; prod?: 'ok' | 'failed' } = {}
): Plan {
  const now = options.now ?? NOW
  const shift = Math.round((now.getTime() - NOW.getTime()) / DAY_MS)
  // Keys keep their creation date; their age and last use move with the run's date.
  const aged = (id: string, ageDays: number, status: 'Active' | 'Inactive' = 'Active') =>
    key(id, ageDays + shift, {
      status,
      createdAt: inDays(-ageDays),
      lastUsedAt: inDays(shift - 1)
    })
  const second =
    options.secondKey === 'new'
      ? aged('K-THIRD', 1)
      : aged('K-SECOND', 40, options.secondKey ?? 'Active')
  return plan(
    'enforce',
    [
      account(DEV.id, DEV.name, [
        user(
          'ci-bot',
          [aged('K-FIRST', 95), second],
          [action('BLOCKED', 'K-FIRST', 'ROTATION_BLOCKED_BY_CONFLICT')],
          'team@example.com'
        )
      ]),
      options.prod === 'failed'
        ? account(
            PROD.id,
            PROD.name,
            [],
            'failed',
            'AccessDenied: not authorized to perform sts:AssumeRole'
          )
        : account(PROD.id, PROD.name, [])
    ],
    now
  )
}

function resolvedPlan(): Plan {
  return plan('enforce', [account(DEV.id, DEV.name, []), account(PROD.id, PROD.name, [])])
}

const repo = () => ({ owner: github.owner, repo: github.repo })

describe('syncIssues', () => {
  it('opens one issue per blocked user, with the label, evidence, advice and markers', async () => {
    const result = await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    expect(result.opened).toHaveLength(1)
    expect(result.warnings).toEqual([])
    expect(github.labels.has(LABEL)).toBe(true)
    const [issue] = github.issues
    expect(issue?.title).toBe('IAM key rotation blocked: ci-bot in 222222222222 (dev)')
    expect(issue?.labels).toEqual([LABEL])
    expect(issue?.body.startsWith(DEV_BLOCKED_MARKER)).toBe(true)
    expect(parseSubjectMarker(issue?.body)).toEqual({
      kind: 'blocked',
      accountId: DEV.id,
      userName: 'ci-bot'
    })
    expect(parseFingerprint(issue?.body)).toMatch(/^[0-9a-f]{16}$/)
    expect(issue?.body).toContain(
      '| `K-FIRST` | Active | 2025-02-26 | 95 | 2025-05-31 | ⛔ blocked |'
    )
    expect(issue?.body).toContain('| `K-SECOND` | Active | 2025-04-22 | 40 | 2025-05-31 |  |')
    expect(issue?.body).toContain(
      '**ROTATION_BLOCKED_BY_CONFLICT**: Expired key cannot be rotated: the user already has two keys.'
    )
    expect(issue?.body).toContain('aws iam delete-access-key --user-name ci-bot')
    expect(issue?.body).toContain('`conflict-resolution: lru`')
    expect(issue?.body).toContain('Owner (tag): `team@example.com`')
    expect(result.opened[0]).toMatchObject({
      number: 1,
      key: 'blocked:222222222222:ci-bot',
      url: 'https://github.test/acme/infra/issues/1'
    })
  })

  it('changes nothing when the evidence is the same, even days later (no write calls)', async () => {
    await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    const writesBefore = github.writes().length
    const later = new Date(NOW.getTime() + 3 * DAY_MS)
    const result = await syncIssues(
      octokit,
      repo(),
      blockedPlan({ now: later }),
      { label: LABEL },
      log
    )
    expect(result.unchanged.map(r => r.number)).toEqual([1])
    expect(result.opened).toEqual([])
    expect(result.updated).toEqual([])
    expect(github.writes()).toHaveLength(writesBefore)
    expect(github.issues).toHaveLength(1)
  })

  it('updates the body and adds one comment when the evidence changed', async () => {
    await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    const before = github.issue(1).body
    github.requests.length = 0
    const result = await syncIssues(
      octokit,
      repo(),
      blockedPlan({ secondKey: 'new' }),
      { label: LABEL },
      log
    )
    expect(result.updated.map(r => r.number)).toEqual([1])
    const issue = github.issue(1)
    expect(issue.body).not.toBe(before)
    expect(parseFingerprint(issue.body)).not.toBe(parseFingerprint(before))
    expect(issue.body).toContain('K-THIRD')
    expect(issue.comments).toHaveLength(1)
    expect(issue.comments[0]).toContain('The evidence changed in run 1234-1')
    expect(issue.comments[0]).toContain('K-THIRD')
    expect(github.writes().map(r => `${r.method} ${r.path}`)).toEqual([
      'PATCH /repos/acme/infra/issues/1',
      'POST /repos/acme/infra/issues/1/comments'
    ])
    expect(github.issues).toHaveLength(1)
  })

  it('closes the issue with a comment when the conflict is gone', async () => {
    await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    const result = await syncIssues(octokit, repo(), resolvedPlan(), { label: LABEL }, log)
    expect(result.closed.map(r => r.number)).toEqual([1])
    const issue = github.issue(1)
    expect(issue.state).toBe('closed')
    expect(issue.stateReason).toBe('completed')
    expect(issue.comments).toEqual([
      'Resolved: run 1234-1 (2025-06-01) found no blocked rotation for `ci-bot` in account 222222222222 (`dev`) any more. Closing.'
    ])
  })

  it('does not close issues of accounts outside the run or failed in it', async () => {
    await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    const writes = github.writes().length
    // Another shard: dev is not in this plan at all.
    const otherShard = plan('enforce', [account(PROD.id, PROD.name, [])])
    expect((await syncIssues(octokit, repo(), otherShard, { label: LABEL }, log)).closed).toEqual(
      []
    )
    // dev failed this time: its users were not seen.
    const devFailed = plan('enforce', [account(DEV.id, DEV.name, [], 'failed', 'Throttling')])
    const result = await syncIssues(octokit, repo(), devFailed, { label: LABEL }, log)
    expect(result.closed).toEqual([])
    expect(github.issue(1).state).toBe('open')
    // dev scanned, but the caller says it is not in scope.
    const outOfScope = await syncIssues(
      octokit,
      repo(),
      resolvedPlan(),
      { label: LABEL, scannedAccountIds: [PROD.id] },
      log
    )
    expect(outOfScope.closed).toEqual([])
    expect(github.issue(1).state).toBe('open')
    // Only the failed-account issue for dev was opened meanwhile.
    expect(github.writes().length).toBeGreaterThan(writes)
    expect(github.issues.map(i => i.title)).toEqual([
      'IAM key rotation blocked: ci-bot in 222222222222 (dev)',
      'IAM key rotation: account 222222222222 (dev) could not be processed'
    ])
  })

  it('opens one issue per failed account and closes it when the account succeeds again', async () => {
    const first = await syncIssues(
      octokit,
      repo(),
      blockedPlan({ prod: 'failed' }),
      { label: LABEL },
      log
    )
    expect(first.opened.map(r => r.key)).toEqual([
      'blocked:222222222222:ci-bot',
      'account-failed:333333333333'
    ])
    const failed = github.issue(2)
    expect(failed.title).toBe(
      'IAM key rotation: account 333333333333 (prod) could not be processed'
    )
    expect(failed.body.startsWith('<!-- iam-key-rotation:account-failed:333333333333 -->')).toBe(
      true
    )
    expect(failed.body).toContain('AccessDenied: not authorized to perform sts:AssumeRole')

    const again = await syncIssues(
      octokit,
      repo(),
      blockedPlan({ prod: 'failed' }),
      { label: LABEL },
      log
    )
    expect(again.unchanged).toHaveLength(2)
    expect(github.issues).toHaveLength(2)

    const recovered = await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    expect(recovered.closed.map(r => r.key)).toEqual(['account-failed:333333333333'])
    expect(github.issue(2).state).toBe('closed')
    expect(github.issue(2).comments).toEqual([
      'Resolved: run 1234-1 (2025-06-01) processed account 333333333333 (`prod`) again. Closing.'
    ])
    expect(github.issue(1).state).toBe('open')
  })

  it('a failed account whose error differs only in request ids is unchanged', async () => {
    const failing = (error: string) =>
      plan('enforce', [account(PROD.id, PROD.name, [], 'failed', error)])
    await syncIssues(
      octokit,
      repo(),
      failing('Rate exceeded (RequestId: 0f1e2d3c-aaaa-bbbb-cccc-000000000001)'),
      { label: LABEL },
      log
    )
    const result = await syncIssues(
      octokit,
      repo(),
      failing('Rate exceeded (RequestId: 9a8b7c6d-aaaa-bbbb-cccc-000000000002)'),
      { label: LABEL },
      log
    )
    expect(result.unchanged).toHaveLength(1)
  })

  it('finds its issue beyond the first page and ignores pull requests and foreign issues', async () => {
    github.labels.add(LABEL)
    await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    for (let i = 0; i < 130; i++) {
      github.addIssue({ title: `noise ${i}`, body: 'no marker here', labels: [LABEL] })
    }
    github.addIssue({
      title: 'a PR quoting the marker',
      body: DEV_BLOCKED_MARKER,
      labels: [LABEL],
      pullRequest: true
    })
    github.addIssue({ title: 'unlabelled copy', body: DEV_BLOCKED_MARKER, labels: [] })
    github.requests.length = 0
    const result = await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    expect(result.unchanged.map(r => r.number)).toEqual([1])
    expect(result.opened).toEqual([])
    expect(github.requests.filter(r => r.path.endsWith('/issues')).length).toBe(2)
    expect(github.writes()).toEqual([])
  })

  it('a token without issues: write gives a warning, not a failure', async () => {
    github.faults.push({
      method: 'POST',
      path: /\/issues$/,
      status: 403,
      message: 'Resource not accessible by integration'
    })
    github.faults.push({
      method: 'POST',
      path: /\/labels$/,
      status: 403,
      message: 'Resource not accessible by integration'
    })
    const result = await syncIssues(
      octokit,
      repo(),
      blockedPlan({ prod: 'failed' }),
      { label: LABEL },
      log
    )
    expect(result.opened).toEqual([])
    expect(result.warnings).toHaveLength(1)
    expect(result.warnings[0]).toMatch(
      /^The github-token may not write issues in acme\/infra \(HTTP 403: Resource not accessible by integration.*\): give the job "permissions: issues: write", or set open-issues: false\. 2 issue changes were not made/
    )
    expect(lines.warning).toEqual(result.warnings)
    // After the first refusal no further write is tried.
    expect(github.writes().filter(r => r.path.endsWith('/issues'))).toHaveLength(1)
  })

  it('a 404 on create (token of another repository) is a warning too', async () => {
    github.faults.push({ method: 'POST', path: /\/issues$/, status: 404, message: 'Not Found' })
    const result = await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    expect(result.warnings[0]).toContain('may not write issues in acme/infra (HTTP 404')
  })

  it('a token that cannot even list issues gives a warning', async () => {
    github.faults.push({ method: 'GET', path: /\/issues$/, status: 403, message: 'Forbidden' })
    const result = await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    expect(result.warnings[0]).toMatch(
      /^Cannot read the issues of acme\/infra \(HTTP 403: Forbidden/
    )
    expect(github.writes()).toEqual([])
  })

  it('keeps an existing label (no label write) and tolerates one created meanwhile (422)', async () => {
    github.labels.add(LABEL)
    await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    expect(github.writes().map(r => r.path)).toEqual(['/repos/acme/infra/issues'])

    const other = new FakeGitHub()
    await other.start()
    try {
      other.faults.push({
        method: 'POST',
        path: /\/labels$/,
        status: 422,
        message: 'Validation Failed'
      })
      const client = createGitHubClient('t', { log, baseUrl: other.baseUrl, throttle: false })
      const result = await syncIssues(client, repo(), blockedPlan(), { label: LABEL }, log)
      expect(result.opened).toHaveLength(1)
      expect(result.warnings).toEqual([])
    } finally {
      await other.stop()
    }
  })

  it('retries a server error', async () => {
    github.faults.push({
      method: 'GET',
      path: /\/issues$/,
      status: 502,
      message: 'Bad Gateway',
      times: 1
    })
    const result = await syncIssues(octokit, repo(), blockedPlan(), { label: LABEL }, log)
    expect(result.opened).toHaveLength(1)
    expect(result.warnings).toEqual([])
  })

  it('waits out a secondary rate limit (throttling plugin)', async () => {
    const throttled = createGitHubClient('t', {
      log,
      baseUrl: github.baseUrl,
      retries: 0,
      retryAfterBaseValue: 1
    })
    github.faults.push({
      method: 'GET',
      path: /\/issues$/,
      status: 403,
      message: 'You have exceeded a secondary rate limit.',
      headers: { 'retry-after': '1' },
      times: 1
    })
    const result = await syncIssues(throttled, repo(), resolvedPlan(), { label: LABEL }, log)
    expect(result.warnings).toEqual([])
    expect(lines.warning[0]).toMatch(/GitHub secondary rate limit on GET .*; retrying in 1 s\./)
    expect(github.requests.filter(r => r.method === 'GET')).toHaveLength(2)
  })
})
