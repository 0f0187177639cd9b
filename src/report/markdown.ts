import type { Plan, PlanAccount, PlanAction, PlanUser } from '../plan/types.js'

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

/** The parts of plan.md, so the job summary can drop account tables to fit its size limit. */
export function planMarkdownSections(plan: Plan): { head: string; accounts: string[] } {
  const t = plan.totals
  const changed =
    plan.mode === 'audit'
      ? 'audit: nothing in AWS was changed; the actions below are what enforce mode would do'
      : 'enforce: the results below are what was done'
  const lines = [
    `# IAM access key rotation: ${plan.mode}`,
    '',
    `**${plan.timeline}**`,
    '',
    `Mode ${changed}. Run ${plan.runId}, ${plan.generatedAt}.`,
    '',
    '| accounts | failed accounts | users | keys | rotate | deactivate | delete | warn | blocked |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${t.accounts} | ${t.failedAccounts} | ${t.usersScanned} | ${t.keysScanned} | ${t.rotated} | ${t.deactivated} | ${t.deleted} | ${t.warnings} | ${t.blocked} |`,
    ''
  ]
  if (plan.mode === 'enforce' && (t.failedActions > 0 || t.skippedActions > 0)) {
    lines.push(
      `${t.failedActions} actions failed and ${t.skippedActions} were skipped; see below.`,
      ''
    )
  }

  const failed = plan.accounts.filter(account => account.status === 'failed')
  if (failed.length > 0) {
    lines.push('## Failed accounts', '')
    for (const account of failed) {
      lines.push(`- **${account.accountId}** ${cell(account.accountName)}: ${cell(account.error)}`)
    }
    lines.push('')
  }

  const failedUsers = plan.accounts.flatMap(account =>
    account.users.filter(user => user.error !== undefined).map(user => ({ account, user }))
  )
  if (failedUsers.length > 0) {
    lines.push(
      '## Users that could not be scanned',
      '',
      '| account | user | error |',
      '|---|---|---|'
    )
    for (const { account, user } of failedUsers) {
      lines.push(`| ${account.accountId} | ${cell(user.userName)} | ${cell(user.error)} |`)
    }
    lines.push('')
  }

  const tampered = plan.accounts.flatMap(account =>
    account.users.flatMap(user =>
      (user.stateFindings ?? []).map(finding => ({ account, user, finding }))
    )
  )
  if (tampered.length > 0) {
    lines.push(
      '## State that failed verification (STATE_TAMPERED)',
      '',
      'These records of the tool were ignored: no key is deactivated or deleted on them.',
      '',
      '| account | user | key | what failed |',
      '|---|---|---|---|'
    )
    for (const { account, user, finding } of tampered) {
      lines.push(
        `| ${account.accountId} | ${cell(user.userName)} | ${cell(finding.accessKeyId)} | ${cell(finding.problem)} |`
      )
    }
    lines.push('')
  }

  const blocked = plan.accounts.flatMap(account =>
    account.users.flatMap(user =>
      user.actions.filter(a => a.type === 'BLOCKED').map(action => ({ account, user, action }))
    )
  )
  if (blocked.length > 0) {
    lines.push('## Blocked keys', '', '| account | user | key | why |', '|---|---|---|---|')
    for (const { account, user, action } of blocked) {
      lines.push(
        `| ${account.accountId} | ${cell(user.userName)} | ${action.accessKeyId} | ${cell(action.detail ? `${action.message} ${action.detail}` : action.message)} |`
      )
    }
    lines.push('')
  }

  const secrets = plan.accounts.flatMap(account =>
    account.users.flatMap(user => (user.secret ? [{ account, user, secret: user.secret }] : []))
  )
  if (secrets.length > 0) {
    lines.push(
      '## Secrets not as the tool made them',
      '',
      plan.mode === 'enforce'
        ? 'Each managed secret is checked on every run; drift is repaired before anything is written into it.'
        : 'Each managed secret is checked on every run; enforce mode repairs this drift (planned here).',
      '',
      '| account | user | secret | problem | repair | result |',
      '|---|---|---|---|---|---|'
    )
    for (const { account, user, secret } of secrets) {
      const row = (problem: string, remedy: string, result: string) =>
        `| ${account.accountId} | ${cell(user.userName)} | ${cell(secret.name)} | ${cell(problem)} | ${cell(remedy)} | ${cell(result)} |`
      if (!secret.owned) {
        lines.push(
          row(
            secret.problem ?? 'not created by this tool',
            'none: never written (SECRET_NOT_OWNED)',
            '—'
          )
        )
      }
      for (const repair of secret.repairs) {
        lines.push(
          row(
            repair.problem,
            repair.remedy,
            repair.error ? `${repair.result}: ${repair.error}` : repair.result
          )
        )
      }
    }
    lines.push('')
  }

  const problems = plan.accounts.flatMap(account =>
    account.users.flatMap(user =>
      user.actions
        .filter(a => a.result === 'failed' || a.result === 'skipped' || a.error)
        .map(action => ({ account, user, action }))
    )
  )
  if (problems.length > 0) {
    lines.push('## Actions that failed, were skipped or need follow-up', '')
    lines.push('| account | user | action | key | result | detail |', '|---|---|---|---|---|---|')
    for (const { account, user, action } of problems) {
      lines.push(
        `| ${account.accountId} | ${cell(user.userName)} | ${action.type} | ${action.accessKeyId} | ${action.result} | ${cell(action.error)} |`
      )
    }
    lines.push('')
  }

  if (plan.warnings.length > 0) {
    lines.push('## Warnings', '', ...plan.warnings.map(w => `- ${cell(w)}`), '')
  }

  lines.push(...deploymentLines(plan), ...notificationLines(plan), ...issueLines(plan))

  lines.push('## Accounts', '')
  const accounts = plan.accounts.filter(a => a.status !== 'failed').map(accountSection)
  return { head: lines.join('\n'), accounts }
}

function deploymentLines(plan: Plan): string[] {
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

function notificationLines(plan: Plan): string[] {
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

function issueLines(plan: Plan): string[] {
  const issues = plan.issues
  if (!issues) return []
  const link = (issue: { number: number; title: string; url: string }) =>
    `[#${issue.number}](${issue.url}) ${cell(issue.title)}`
  const lines = ['## GitHub issues', '']
  for (const issue of issues.opened) lines.push(`- Opened ${link(issue)}`)
  for (const issue of issues.updated) lines.push(`- Updated ${link(issue)}`)
  for (const issue of issues.closed) lines.push(`- Closed ${link(issue)}`)
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

export function planMarkdown(plan: Plan): string {
  const { head, accounts } = planMarkdownSections(plan)
  return [head, ...accounts].join('\n')
}

/**
 * plan.md cut to fit the job summary: the head (totals, failures, blocked keys) always, then
 * account tables while they fit, then a pointer to the full report. A head that is too big on
 * its own (thousands of blocked keys or failed accounts) is cut at a line as well.
 */
export function summaryMarkdown(plan: Plan, limitBytes = SUMMARY_LIMIT_BYTES): string {
  const { head, accounts } = planMarkdownSections(plan)
  // Room for the pointer at the end.
  const budget = limitBytes - 300
  const pointer = (what: string) =>
    `\n_${what} not shown here to stay under GitHub's step summary limit: see plan.md in the report artifact._\n`

  const headBytes = Buffer.byteLength(head)
  if (headBytes > budget) {
    const lines = head.split('\n')
    const kept = lines.slice(0, countFitting(lines, budget))
    const tables = `${accounts.length} account ${accounts.length === 1 ? 'table is' : 'tables are'}`
    return [
      ...kept,
      pointer(`${lines.length - kept.length} more lines of this overview and ${tables}`)
    ].join('\n')
  }
  const shown = accounts.slice(0, countFitting(accounts, budget - headBytes))
  const parts = [head, ...shown]
  if (shown.length < accounts.length) {
    parts.push(pointer(`${accounts.length - shown.length} more accounts are`))
  }
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
