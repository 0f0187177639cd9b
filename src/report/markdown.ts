import type { PlanAccount, PlanAction, PlanUser, RunPlan } from '../plan/types.js'

/** GitHub rejects a step summary over 1 MiB; stay well below it. */
export const SUMMARY_LIMIT_BYTES = 1_000_000

const ACTION_ICONS: Record<PlanAction['type'], string> = {
  ROTATE: '🔄',
  DEACTIVATE: '⏸️',
  DELETE: '🗑️',
  WARN: '⚠️',
  BLOCKED: '⛔'
}

/** Escapes text for a Markdown table cell. */
function cell(value: string | number | undefined): string {
  return String(value ?? '')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ')
}

function day(iso: string | undefined): string {
  if (!iso) return ''
  return /^\d{4}-/.test(iso) ? iso.slice(0, 10) : iso
}

/** Writes `header` before the first row, and `footer` after the last, only if there are rows. */
function* section(
  header: readonly string[],
  rows: Iterable<string>,
  footer: readonly string[] = ['']
): Generator<string> {
  let started = false
  for (const row of rows) {
    if (!started) {
      yield* header
      started = true
    }
    yield row
  }
  if (started) yield* footer
}

/** Each user of each account, with the account: one pass over the plan's accounts. */
function* usersOf(plan: RunPlan): Generator<{ account: PlanAccount; user: PlanUser }> {
  for (const account of plan.accounts) {
    for (const user of account.users) yield { account, user }
  }
}

/**
 * The lines of plan.md before the account sections: totals, then everything to act on, each
 * section one pass over the accounts, so a streamed plan is never held whole.
 */
function* headLines(plan: RunPlan): Generator<string> {
  const t = plan.totals
  const changed =
    plan.mode === 'audit'
      ? 'audit: nothing in AWS was changed; the actions below are what enforce mode would do'
      : 'enforce: the results below are what was done'
  yield* [
    `# IAM access key rotation: ${plan.mode}`,
    '',
    `**${plan.timeline}**`,
    '',
    `Mode ${changed}. Run ${plan.runId}, ${plan.generatedAt}.`,
    ''
  ]
  const stop = plan.interrupted
  if (stop) {
    yield `**Stopped early:** the run received ${stop.signal} during ${stop.phase} (${stop.at}). This plan lists what it did until then${stop.accountsNotReached > 0 ? `; ${stop.accountsNotReached} accounts in scope were not reached` : ''}. The next run reads every key again.`
    yield ''
  }
  yield* [
    '| accounts | failed accounts | users | keys | rotate | deactivate | delete | warn | blocked |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${t.accounts} | ${t.failedAccounts} | ${t.usersScanned} | ${t.keysScanned} | ${t.rotated} | ${t.deactivated} | ${t.deleted} | ${t.warnings} | ${t.blocked} |`,
    ''
  ]
  if (plan.mode === 'enforce' && (t.failedActions > 0 || t.skippedActions > 0)) {
    yield `${t.failedActions} actions failed and ${t.skippedActions} were skipped; see below.`
    yield ''
  }

  yield* section(
    ['## Failed accounts', ''],
    (function* () {
      for (const account of plan.accounts) {
        if (account.status !== 'failed') continue
        yield `- **${account.accountId}** ${cell(account.accountName)}: ${cell(account.error)}`
      }
    })()
  )

  yield* section(
    ['## Users that could not be scanned', '', '| account | user | error |', '|---|---|---|'],
    (function* () {
      for (const { account, user } of usersOf(plan)) {
        if (user.error === undefined) continue
        yield `| ${account.accountId} | ${cell(user.userName)} | ${cell(user.error)} |`
      }
    })()
  )

  yield* section(
    [
      '## State that failed verification (STATE_TAMPERED)',
      '',
      'These records of the tool were ignored: no key is deactivated or deleted on them.',
      '',
      '| account | user | key | what failed |',
      '|---|---|---|---|'
    ],
    (function* () {
      for (const { account, user } of usersOf(plan)) {
        for (const finding of user.stateFindings ?? []) {
          yield `| ${account.accountId} | ${cell(user.userName)} | ${cell(finding.accessKeyId)} | ${cell(finding.problem)} |`
        }
      }
    })()
  )

  yield* section(
    ['## Blocked keys', '', '| account | user | key | why |', '|---|---|---|---|'],
    (function* () {
      for (const { account, user } of usersOf(plan)) {
        for (const action of user.actions) {
          if (action.type !== 'BLOCKED') continue
          yield `| ${account.accountId} | ${cell(user.userName)} | ${action.accessKeyId} | ${cell(action.detail ? `${action.message} ${action.detail}` : action.message)} |`
        }
      }
    })()
  )

  yield* section(
    [
      '## Secrets not as the tool made them',
      '',
      plan.mode === 'enforce'
        ? 'Each managed secret is checked on every run; drift is repaired before anything is written into it.'
        : 'Each managed secret is checked on every run; enforce mode repairs this drift (planned here).',
      '',
      '| account | user | secret | problem | repair | result |',
      '|---|---|---|---|---|---|'
    ],
    (function* () {
      for (const { account, user } of usersOf(plan)) {
        const secret = user.secret
        if (!secret) continue
        const row = (problem: string, remedy: string, result: string) =>
          `| ${account.accountId} | ${cell(user.userName)} | ${cell(secret.name)} | ${cell(problem)} | ${cell(remedy)} | ${cell(result)} |`
        if (!secret.owned) {
          yield row(
            secret.problem ?? 'not created by this tool',
            'none: never written (SECRET_NOT_OWNED)',
            '—'
          )
        }
        for (const repair of secret.repairs) {
          yield row(
            repair.problem,
            repair.remedy,
            repair.error ? `${repair.result}: ${repair.error}` : repair.result
          )
        }
      }
    })()
  )

  yield* section(
    [
      '## Actions that failed, were skipped or need follow-up',
      '',
      '| account | user | action | key | result | detail |',
      '|---|---|---|---|---|---|'
    ],
    (function* () {
      for (const { account, user } of usersOf(plan)) {
        for (const action of user.actions) {
          if (action.result !== 'failed' && action.result !== 'skipped' && !action.error) continue
          yield `| ${account.accountId} | ${cell(user.userName)} | ${action.type} | ${action.accessKeyId} | ${action.result} | ${cell(action.error)} |`
        }
      }
    })()
  )

  yield* section(
    ['## Warnings', ''],
    plan.warnings.map(w => `- ${cell(w)}`)
  )

  yield* deploymentLines(plan)
  yield* notificationLines(plan)
  yield* issueLines(plan)
  yield '## Accounts'
  yield ''
}

/** The section of each account that was not failed (failed ones are listed in the head). */
function* accountSections(plan: RunPlan): Generator<string> {
  for (const account of plan.accounts) {
    if (account.status !== 'failed') yield accountSection(account)
  }
}

function deploymentLines(plan: RunPlan): string[] {
  const deployment = plan.deployment
  if (!deployment) return []
  const lines = [
    `## Member-role StackSet (${deployment.mode})`,
    '',
    `StackSet **${cell(deployment.stackSetName)}**: ${deployment.status}.`,
    ''
  ]
  if (deployment.differences.length > 0) {
    lines.push(
      'Differences from `cfn/member-role.yaml`:',
      '',
      ...deployment.differences.map(d => `- ${cell(d)}`),
      ''
    )
  }
  if (deployment.missingInstances.length > 0) {
    lines.push(
      `Accounts in scope without a current stack instance (their member role is missing or outdated): ${deployment.missingInstances.join(', ')}`,
      ''
    )
  }
  for (const failed of deployment.failedInstances) {
    lines.push(
      `- Stack instance in ${failed.account} ${failed.region} failed: ${cell(failed.reason)}`
    )
  }
  if (deployment.failedInstances.length > 0) lines.push('')
  for (const stack of deployment.centralStacks ?? []) {
    lines.push(
      `- Stack ${cell(stack.name)}: ${stack.status}${stack.reason ? ` (${cell(stack.reason)})` : ''}` +
        (stack.templateVersion ? `, template version ${cell(stack.templateVersion)}` : '') +
        (stack.drift ? `, drift ${cell(stack.drift)}` : '')
    )
    for (const problem of stack.problems ?? []) lines.push(`  - ${cell(problem)}`)
    if (stack.fix) {
      // A fence longer than any run of backticks in the command, so nothing in it ends the block.
      const longest = Math.max(0, ...[...stack.fix.matchAll(/`+/g)].map(run => run[0].length))
      const fence = '`'.repeat(Math.max(3, longest + 1))
      lines.push('', `  ${fence}sh`, `  ${stack.fix.replace(/\n/g, ' ')}`, `  ${fence}`)
    }
  }
  if ((deployment.centralStacks ?? []).length > 0) lines.push('')
  if (deployment.messages.length > 0)
    lines.push(...deployment.messages.map(m => `- ${cell(m)}`), '')
  return lines
}

function notificationLines(plan: RunPlan): string[] {
  const n = plan.notifications
  if (!n) return []
  const lines = [
    '## Notifications',
    '',
    `${n.sent.length} emails sent, ${n.failed.length} failed, ${n.unsent.length} not sent.`,
    ''
  ]
  for (const mail of n.failed) lines.push(`- Failed to ${cell(mail.to)}: ${cell(mail.error)}`)
  for (const mail of n.unsent) lines.push(`- Not sent to ${cell(mail.to)}: ${cell(mail.reason)}`)
  if (n.failed.length + n.unsent.length > 0) lines.push('')
  return lines
}

function issueLines(plan: RunPlan): string[] {
  const issues = plan.issues
  if (!issues) return []
  const link = (issue: { number: number; title: string; url: string }) =>
    `[#${issue.number}](${issue.url}) ${cell(issue.title)}`
  const lines = ['## GitHub issues', '']
  for (const issue of issues.opened) lines.push(`- Opened ${link(issue)}`)
  for (const issue of issues.updated) lines.push(`- Updated ${link(issue)}`)
  for (const issue of issues.closed) lines.push(`- Closed ${link(issue)}`)
  const deferred = issues.deferred?.length ?? 0
  if (deferred > 0) {
    const where = issues.rollup ? `, listed in ${link(issues.rollup)}` : ''
    lines.push(
      `- ${deferred} ${deferred === 1 ? 'problem' : 'problems'} over max-new-issues wait for their own issue${where}.`
    )
  }
  lines.push(
    `- ${issues.unchanged} open issues unchanged.`,
    ...issues.warnings.map(w => `- ${cell(w)}`),
    ''
  )
  return lines
}

function accountSection(account: PlanAccount): string {
  const lines = [
    `### ${account.accountId} ${cell(account.accountName)}`,
    '',
    `${account.usersScanned} users, ${account.keysScanned} keys scanned.`
  ]
  const users = account.users.filter(user => user.actions.length > 0 || user.exempt || user.notes)
  if (users.length === 0) {
    lines.push(' Nothing to do.', '')
    return lines.join('\n')
  }
  lines.push(
    '',
    '| user | owner | key | status | age (d) | last used | action | reason | due | result |',
    '|---|---|---|---|---:|---|---|---|---|---|'
  )
  for (const user of users) lines.push(...userRows(user))
  const notes = users.flatMap(user =>
    (user.notes ?? []).map(note => `- ${cell(user.userName)}: ${cell(note)}`)
  )
  if (notes.length > 0) lines.push('', ...notes)
  lines.push('')
  return lines.join('\n')
}

function userRows(user: PlanUser): string[] {
  if (user.exempt)
    return [`| ${cell(user.userName)} | ${cell(user.owner)} | | | | | exempt | | | |`]
  return user.actions.map(action => {
    const key = user.keys.find(k => k.accessKeyId === action.accessKeyId)
    const result = action.newAccessKeyId
      ? `${action.result} → ${action.newAccessKeyId}`
      : action.result
    return (
      `| ${cell(user.userName)} | ${cell(user.owner)} | ${action.accessKeyId} | ${key?.status ?? ''} | ` +
      `${key?.ageDays ?? ''} | ${day(key?.lastUsedAt)} | ${ACTION_ICONS[action.type]} ${action.type} | ` +
      `${action.reason} | ${day(action.dueAt)} | ${result} |`
    )
  })
}

/**
 * plan.md in pieces whose concatenation is the file: the head line by line, then each account
 * section. Memory stays at one account, whatever the size of the plan.
 */
export function* planMarkdownChunks(plan: RunPlan): Generator<string> {
  let first = true
  for (const line of headLines(plan)) {
    yield first ? line : `\n${line}`
    first = false
  }
  for (const account of accountSections(plan)) yield `\n${account}`
}

export function planMarkdown(plan: RunPlan): string {
  return [...planMarkdownChunks(plan)].join('')
}

/**
 * plan.md cut to fit the job summary: the head (totals, failures, blocked keys) always, then
 * account tables while they fit, then a pointer to the full report. A head that is too big on
 * its own (thousands of blocked keys or failed accounts) is cut at a line as well. Holds no more
 * than the summary itself.
 */
export function summaryMarkdown(plan: RunPlan, limitBytes = SUMMARY_LIMIT_BYTES): string {
  // Room for the pointer at the end.
  const budget = limitBytes - 300
  const pointer = (what: string) =>
    `\n_${what} not shown here to stay under GitHub's step summary limit: see plan.md in the report artifact._\n`

  // The head's lines while the joined head fits; past that only counted.
  const head: string[] = []
  let headBytes = -1
  let headLineCount = 0
  for (const line of headLines(plan)) {
    headLineCount++
    const size = Buffer.byteLength(line) + 1
    if (head.length === headLineCount - 1 && headBytes + size <= budget) {
      head.push(line)
      headBytes += size
    }
  }
  const sectionCount = () => [...accountSections(plan)].length
  if (head.length < headLineCount) {
    const kept = head.slice(0, countFitting(head, budget))
    const accounts = sectionCount()
    const tables = `${accounts} account ${accounts === 1 ? 'table is' : 'tables are'}`
    return [
      ...kept,
      pointer(`${headLineCount - kept.length} more lines of this overview and ${tables}`)
    ].join('\n')
  }
  const parts = [head.join('\n')]
  let room = budget - Math.max(0, headBytes)
  let hidden = 0
  for (const account of accountSections(plan)) {
    const size = Buffer.byteLength(account) + 1
    if (hidden === 0 && size <= room) {
      parts.push(account)
      room -= size
    } else {
      hidden++
    }
  }
  if (hidden > 0) parts.push(pointer(`${hidden} more accounts are`))
  return parts.join('\n')
}

/** How many of `pieces`, taken in order and joined by newlines, fit in `budget` bytes. */
function countFitting(pieces: readonly string[], budget: number): number {
  let size = 0
  let count = 0
  for (const piece of pieces) {
    size += Buffer.byteLength(piece) + 1
    if (size > budget) break
    count++
  }
  return count
}
