import type { PlanAccount, RunPlan, PlanAction, PlanKey, PlanUser } from '../plan/types.js'
import {
  fingerprint,
  fingerprintMarker,
  subjectKey,
  subjectMarker,
  type IssueSubject
} from './markers.js'
import {
  codeBlock,
  codeSpan as code,
  issueTitle,
  markdownText,
  shellArgument
} from '../report/markdown-escape.js'

/** An issue as this run wants it: its subject, its text and the fingerprint of its evidence. */
export interface DesiredIssue {
  readonly subject: IssueSubject
  readonly title: string
  readonly body: string
  readonly fingerprint: string
  /** The evidence part of the body, repeated in the comment when it changed. */
  readonly evidence: string
}

const FOOTER =
  '_This issue is maintained by the IAM access key rotation workflow: it is updated when the evidence changes and closed automatically when the problem is gone._'

function day(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : iso
}

function runLine(plan: RunPlan): string {
  return `Evidence from run ${plan.runId} on ${day(plan.generatedAt)} (${plan.mode} mode).`
}

/**
 * What a blocked rotation issue rests on. Only facts that change when the situation changes:
 * key ids, statuses, creation dates, whether a key was ever used, the blocked actions. Ages and
 * last-use dates move every day and would turn every run into a comment.
 */
function blockedEvidence(account: PlanAccount, user: PlanUser, blocked: readonly PlanAction[]) {
  return {
    accountId: account.accountId,
    userName: user.userName,
    keys: [...user.keys]
      .sort((a, b) => a.accessKeyId.localeCompare(b.accessKeyId))
      .map(key => ({
        id: key.accessKeyId,
        status: key.status,
        createdAt: key.createdAt,
        used: lastUsedKind(key)
      })),
    blocked: blocked
      .map(action => ({ key: action.accessKeyId, reason: action.reason }))
      .sort((a, b) => a.key.localeCompare(b.key) || a.reason.localeCompare(b.reason))
  }
}

function lastUsedKind(key: PlanKey): 'never' | 'unknown' | 'used' {
  return key.lastUsedAt === 'never' || key.lastUsedAt === 'unknown' ? key.lastUsedAt : 'used'
}

/** One issue per account and user with a BLOCKED action. */
export function blockedIssue(plan: RunPlan, account: PlanAccount, user: PlanUser): DesiredIssue {
  const blocked = user.actions.filter(action => action.type === 'BLOCKED')
  const subject: IssueSubject = {
    kind: 'blocked',
    accountId: account.accountId,
    userName: user.userName
  }
  const blockedIds = new Set(blocked.map(action => action.accessKeyId))
  const rows = user.keys.map(
    key =>
      `| ${code(key.accessKeyId, true)} | ${key.status} | ${day(key.createdAt)} | ${key.ageDays} | ${markdownText(day(key.lastUsedAt))} | ${blockedIds.has(key.accessKeyId) ? '⛔ blocked' : ''} |`
  )
  const evidence = [
    runLine(plan),
    '',
    '| key | status | created | age (days) | last used | |',
    '|---|---|---|---:|---|---|',
    ...rows,
    '',
    ...blocked.map(
      action =>
        `- ⛔ ${code(action.accessKeyId)}: **${action.reason}**: ${markdownText(action.message)}` +
        (action.detail ? ` ${code(action.detail)}` : '')
    ),
    ...(user.secret && !user.secret.owned && user.secret.problem
      ? [`- Secret: ${code(user.secret.problem)}`]
      : []),
    ...(user.notes ?? []).map(note => `- Note: ${markdownText(note)}`)
  ].join('\n')
  const print = fingerprint(blockedEvidence(account, user, blocked))
  const reasons = [...new Set(blocked.map(action => action.reason))]
  const guides = reasons.map(reason => blockedGuide(reason, plan, account, user))
  const body = [
    subjectMarker(subject),
    fingerprintMarker(print),
    `## Key rotation blocked: ${code(user.userName)} in account ${account.accountId} (${code(account.accountName)})`,
    '',
    guides.map(guide => guide.why).join('\n\n'),
    ...(user.owner ? ['', `Owner (tag): ${code(user.owner)}`] : []),
    '',
    '### Evidence',
    '',
    evidence,
    '',
    '### What to do',
    '',
    ...guides.flatMap(guide =>
      guides.length > 1 ? [`**${guide.reason}**`, '', ...guide.steps] : guide.steps
    ),
    FOOTER
  ].join('\n')
  return {
    subject,
    title: issueTitle(
      `IAM key rotation blocked: ${user.userName} in ${account.accountId} (${account.accountName})`
    ),
    body,
    fingerprint: print,
    evidence
  }
}

interface BlockedGuide {
  readonly reason: PlanAction['reason']
  /** Why the rotation is blocked, in a sentence or two. */
  readonly why: string
  /** What a person does about it, as Markdown lines. */
  readonly steps: readonly string[]
}

/** Why a rotation is blocked and what a person does, per reason of a BLOCKED action. */
function blockedGuide(
  reason: PlanAction['reason'],
  plan: RunPlan,
  account: PlanAccount,
  user: PlanUser
): BlockedGuide {
  const name = code(user.userName)
  if (reason === 'ROTATION_BLOCKED_BY_OWNER') {
    return {
      reason,
      why:
        `A key of IAM user ${name} was reactivated a second time after this tool deactivated it. ` +
        'The tool never fights a person: it no longer deactivates that key, and a person must decide.',
      steps: [
        '1. Find out what still uses the reactivated key: the _last used_ column above, and AWS CloudTrail ' +
          '(`userIdentity.accessKeyId`). If the key was rotated, its replacement is in Secrets Manager.',
        `2. Switch those callers to the new key, then deactivate the old key yourself (or delete it) in account ${account.accountId}:`,
        '',
        '   ```sh',
        `   aws iam update-access-key --user-name ${shellArgument(user.userName)} --access-key-id OLD_KEY_ID --status Inactive`,
        '   ```',
        '',
        '   This issue closes on the next run after that.',
        ''
      ]
    }
  }
  if (reason === 'SECRET_NOT_OWNED') {
    const secretName = user.secret?.name ?? 'the secret named in the evidence'
    return {
      reason,
      why:
        `The expired access key of IAM user ${name} is not rotated: a secret already has the name this tool stores its ` +
        'new key under, and the tool cannot prove it created it. The tool never writes a key into a secret it cannot ' +
        'vouch for: its key, resource policy or replicas could let others read it. Nothing was changed.',
      steps: [
        '1. Find out who created the secret and what it holds: AWS CloudTrail (`CreateSecret`, `PutResourcePolicy`) ' +
          "in the account holding it. If it is this tool's (made while the tool ran with another state key, or by " +
          '0.1.0 after the state key existed), the key it holds may still be in use: check before removing it.',
        '2. Hand the name over, in one of two ways:',
        '   - delete the secret, keeping a recovery window; the name is free when the window ends, and the next run then ' +
          'creates its own (until then this issue stays open):',
        '',
        '     ```sh',
        `     aws secretsmanager delete-secret --secret-id ${shellArgument(secretName)} --recovery-window-in-days 7`,
        '     ```',
        '',
        '   - or keep it, and give this tool other names with a new `secret-name-prefix` (and the same `SecretNamePrefix` in the ' +
          'member stack, so that users may read their secrets).',
        ''
      ]
    }
  }
  if (reason === 'DEACTIVATION_WAITS_FOR_NEW_KEY') {
    return {
      reason,
      why:
        `The old key of IAM user ${name} is past its installation grace period, but it is not deactivated: the user cannot ` +
        `read its new key from Secrets Manager, and has not been able to for ${plan.policy.Gi} days. Deactivating the old key ` +
        'now would break whatever uses it.',
      steps: [
        '1. Fix what the evidence names (the details give the fix): the secret must hold the new key, with the owner-only ' +
          'policy, and `iam-key-rotation-read-own-secret` must be attached to the user without a permissions boundary or ' +
          'Deny taking it away. A user with 10 managed policies must have one detached first.',
        '2. The next run checks again (with `iam:SimulatePrincipalPolicy`), deactivates the old key, and this issue closes.',
        ''
      ]
    }
  }
  if (reason === 'OLD_KEY_STILL_IN_USE') {
    return {
      reason,
      why:
        `The old key of IAM user ${name} is past its installation grace period but still in use, and \`old-key-in-use: wait\` ` +
        'keeps it active until it goes quiet.',
      steps: [
        '1. Find what uses it: the details name its last use, service and region; AWS CloudTrail (`userIdentity.accessKeyId`) names the caller.',
        '2. Switch that caller to the new key in Secrets Manager. Once the old key has gone unused for the quiet days, the next ' +
          'run deactivates it and this issue closes.',
        ''
      ]
    }
  }
  // ROTATION_BLOCKED_BY_CONFLICT: two keys, no free slot.
  const keyArgs = `--user-name ${shellArgument(user.userName)} --access-key-id KEY_ID_NO_LONGER_NEEDED`
  return {
    reason,
    why:
      `The expired access key of IAM user ${name} cannot be rotated: the user already has two keys, ` +
      'and a new key needs a free slot. Nothing was changed; the key stays active and keeps expiring.',
    steps: [
      '1. Find out which of the two keys is still needed: the _last used_ column above, and AWS CloudTrail ' +
        '(`userIdentity.accessKeyId`) for who uses it.',
      `2. Deactivate the key that is no longer needed (reactivate it if something breaks), or delete it, in account ${account.accountId}:`,
      '',
      '   ```sh',
      `   aws iam update-access-key ${keyArgs} --status Inactive`,
      `   aws iam delete-access-key ${keyArgs}`,
      '   ```',
      '',
      '   With one active key left, the next runs go on as usual: the active key is rotated when it expires, and the ' +
        'inactive key is deleted after the recovery grace period (or earlier, to make room for a replacement).',
      '3. Or let the action decide: with `conflict-resolution: lru` it deactivates the least recently used key ' +
        '(never one used within the installation grace period, nor one whose last use is unknown) and rotates the other key on a later run.',
      ''
    ]
  }
}

/**
 * Error text without what changes on every attempt: request ids, timestamps, and role session
 * names (an AccessDenied names the caller's session, which is named after the workflow run).
 */
function stableError(error: string): string {
  return error
    .replace(/(:assumed-role\/[\w+=,.@-]+\/)[\w+=,.@-]+/g, '$1<session>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?/g, '<time>')
    .replace(/\b(request ?id:?\s*)\S+/gi, '$1<id>')
}

/** One issue per account the run could not process. */
export function failedAccountIssue(plan: RunPlan, account: PlanAccount): DesiredIssue {
  const subject: IssueSubject = { kind: 'account-failed', accountId: account.accountId }
  const error = account.error ?? 'unknown error'
  const evidence = [runLine(plan), '', codeBlock(error)].join('\n')
  const print = fingerprint({ accountId: account.accountId, error: stableError(error) })
  const body = [
    subjectMarker(subject),
    fingerprintMarker(print),
    `## Account ${account.accountId} (${code(account.accountName)}) could not be processed`,
    '',
    'The run could not scan this account, so none of its access keys were checked, rotated or warned about.',
    '',
    '### Error',
    '',
    evidence,
    '',
    '### What to do',
    '',
    '- **AccessDenied on `sts:AssumeRole`**: the member role (input `member-role-name`) is missing in this account ' +
      'or does not trust the central role. Deploy it with the StackSet (`deploy-stacks: check` reports missing stack instances).',
    '- **AccessDenied on an IAM call**: the member role lacks a permission, or a service control policy denies it.',
    '- **Throttling, timeouts or network errors**: usually gone on the next run.',
    '',
    FOOTER
  ].join('\n')
  return {
    subject,
    title: issueTitle(
      `IAM key rotation: account ${account.accountId} (${account.accountName}) could not be processed`
    ),
    body,
    fingerprint: print,
    evidence
  }
}

/** One issue per account and user whose records failed verification (STATE_TAMPERED). */
export function tamperedIssue(plan: RunPlan, account: PlanAccount, user: PlanUser): DesiredIssue {
  const subject: IssueSubject = {
    kind: 'tampered',
    accountId: account.accountId,
    userName: user.userName
  }
  const findings = [...(user.stateFindings ?? [])].sort((a, b) =>
    a.accessKeyId.localeCompare(b.accessKeyId)
  )
  const evidence = [
    runLine(plan),
    '',
    ...findings.map(finding => `- ${code(finding.accessKeyId)}: ${code(finding.problem)}`)
  ].join('\n')
  const print = fingerprint({
    accountId: account.accountId,
    userName: user.userName,
    findings: findings.map(finding => ({ key: finding.accessKeyId, problem: finding.problem }))
  })
  const tagArgs = `--user-name ${shellArgument(user.userName)}`
  const body = [
    subjectMarker(subject),
    fingerprintMarker(print),
    `## Rotation state failed verification: ${code(user.userName)} in account ${account.accountId} (${code(account.accountName)})`,
    '',
    "The tool signs every record it keeps in the user's `iam-key-rotation:*` tags. These records did not verify, so " +
      'they were **ignored**: the keys are evaluated as if they had no record, and no key is deactivated or deleted because of them.',
    '',
    'Just upgraded from 0.1.0? Its records are unsigned, and those AWS cannot confirm are reported this way. ' +
      'Check them as below and remove them: nothing is lost, a rotation under way is then treated as a conflict.',
    ...(user.owner ? ['', `Owner (tag): ${code(user.owner)}`] : []),
    '',
    '### Evidence',
    '',
    evidence,
    '',
    '### What to do',
    '',
    '1. Find out who changed the tags: AWS CloudTrail `TagUser` and `UntagUser` events for this user in account ' +
      `${account.accountId}. Only the member role of this tool should write them.`,
    '2. If nobody should have, treat it as a security event: whoever wrote them can tag IAM users in that account.',
    '3. Remove the records that do not verify; the tool writes fresh, signed ones when it next acts on the keys:',
    '',
    '   ```sh',
    `   aws iam list-user-tags ${tagArgs}`,
    `   aws iam untag-user ${tagArgs} --tag-keys iam-key-rotation:KEY_ID iam-key-rotation:sig:KEY_ID`,
    '   ```',
    '',
    FOOTER
  ].join('\n')
  return {
    subject,
    title: issueTitle(
      `IAM key rotation state failed verification: ${user.userName} in ${account.accountId} (${account.accountName})`
    ),
    body,
    fingerprint: print,
    evidence
  }
}

/** The issues this run wants open. */
export function desiredIssues(plan: RunPlan): DesiredIssue[] {
  const issues: DesiredIssue[] = []
  for (const account of plan.accounts) {
    if (account.status === 'failed') {
      issues.push(failedAccountIssue(plan, account))
      continue
    }
    if (account.status !== 'ok') continue
    for (const user of account.users) {
      if (user.actions.some(action => action.type === 'BLOCKED')) {
        issues.push(blockedIssue(plan, account, user))
      }
      if ((user.stateFindings ?? []).length > 0) issues.push(tamperedIssue(plan, account, user))
    }
  }
  return issues
}

export function changedComment(plan: RunPlan, issue: DesiredIssue): string {
  return [
    `The evidence changed in run ${plan.runId} (${day(plan.generatedAt)}); the description is updated.`,
    '',
    issue.evidence
  ].join('\n')
}

export function resolvedComment(
  plan: RunPlan,
  subject: Exclude<IssueSubject, { kind: 'rollup' }>,
  accountName: string
): string {
  const where = `account ${subject.accountId} (${code(accountName)})`
  const run = `run ${plan.runId} (${day(plan.generatedAt)})`
  switch (subject.kind) {
    case 'blocked':
      return `Resolved: ${run} found no blocked rotation for ${code(subject.userName)} in ${where} any more. Closing.`
    case 'tampered':
      return `Resolved: ${run} found no record failing verification for ${code(subject.userName)} in ${where} any more. Closing.`
    case 'account-failed':
      return `Resolved: ${run} processed ${where} again. Closing.`
  }
}

/** GitHub rejects an issue body over 65,536 characters. */
const ROLLUP_BODY_LIMIT = 60_000

/**
 * The one issue that lists the problems this run had no budget for (max-new-issues): each gets
 * its own issue on a later run. Updated in place; its fingerprint is the set of problems listed.
 */
export function rollupIssue(
  plan: RunPlan,
  deferred: readonly DesiredIssue[],
  maxNewIssues: number
): DesiredIssue {
  const subject: IssueSubject = { kind: 'rollup' }
  const keys = deferred.map(issue => subjectKey(issue.subject)).sort()
  const print = fingerprint(keys)
  const head = [
    subjectMarker(subject),
    fingerprintMarker(print),
    '',
    `${runLine(plan)} This run opens or updates at most ${maxNewIssues} issues (input max-new-issues); these ${deferred.length} problems get their own issue on a later run. plan.json in the run's report artifact has every one of them.`,
    ''
  ]
  const lines: string[] = []
  let size = head.join('\n').length + FOOTER.length + 200
  for (const [index, issue] of deferred.entries()) {
    const line = `- ${code(issue.title)}`
    if (size + line.length + 1 > ROLLUP_BODY_LIMIT) {
      lines.push(`- … and ${deferred.length - index} more: see plan.json.`)
      break
    }
    lines.push(line)
    size += line.length + 1
  }
  return {
    subject,
    title: `IAM key rotation: ${deferred.length} more ${deferred.length === 1 ? 'problem waits' : 'problems wait'} for an issue`,
    body: [...head, ...lines, '', FOOTER].join('\n'),
    fingerprint: print,
    evidence: ''
  }
}
