import type { ActionType } from '../policy/index.js'
import type {
  PlanAccount,
  PlanAction,
  PlanNotifications,
  PlanOutlook,
  PlanUser,
  RunPlan
} from '../plan/types.js'
import { plural } from '../util/plural.js'
import { skippedStates } from '../plan/skipped.js'
import { codeBlock, htmlText, markdownText } from './markdown-escape.js'

/** GitHub rejects a step summary over 1 MiB; stay well below it. */
export const SUMMARY_LIMIT_BYTES = 1_000_000

/**
 * How much of each part the job summary shows; plan.md shows everything. Bounded so the summary
 * reads in a minute at any size (under 150 KB at 1,000 accounts) and never nears GitHub's limit.
 */
export interface MarkdownLimits {
  /** Rows of each list of problems (failed accounts, blocked keys, …). */
  readonly rows: number
  /** Bytes of per-account detail, filled with the accounts that matter most first. */
  readonly detailBytes: number
  /**
   * Characters of a free text (an AWS error, a detail, a note) before it is cut with `…`: room for
   * the longest message this tool writes, whose fix comes last.
   */
  readonly text: number
}

export const SUMMARY_LIMITS: MarkdownLimits = { rows: 30, detailBytes: 48_000, text: 1_000 }
const UNLIMITED: MarkdownLimits = { rows: Infinity, detailBytes: Infinity, text: Infinity }

const ACTION_ICONS: Record<ActionType, string> = {
  ROTATE: '🔄',
  DEACTIVATE: '⏸️',
  DELETE: '🗑️',
  WARN: '⚠️',
  BLOCKED: '⛔'
}
/** The order of the action list: what needs a person first. */
const ACTION_ORDER: readonly ActionType[] = ['BLOCKED', 'ROTATE', 'DEACTIVATE', 'DELETE', 'WARN']

const cell = markdownText

/** An ISO time as people read it: 2026-12-01 18:34 UTC. */
export function readableTime(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso)
    ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
    : iso
}

function day(iso: string | undefined): string {
  if (!iso) return ''
  return /^\d{4}-/.test(iso) ? iso.slice(0, 10) : iso
}

/** Writes `header` before the first row, and `footer` after the last, only if there are rows. */
function* section(
  header: readonly string[],
  rows: Iterable<string>,
  limit: number,
  footer: readonly string[] = ['']
): Generator<string> {
  let shown = 0
  let hidden = 0
  for (const row of rows) {
    if (shown === 0) yield* header
    if (shown < limit) {
      yield row
      shown++
    } else {
      hidden++
    }
  }
  if (hidden > 0) {
    yield ''
    yield `_… and ${plural(hidden, 'more row')}: see plan.md in the report artifact._`
  }
  if (shown > 0) yield* footer
}

/** Bullet lines, at most `rows`, then how many more there are and where. */
function bullets(items: readonly string[], rows: number, where = 'plan.json'): string[] {
  const lines = items.slice(0, rows).map(item => `- ${cell(item)}`)
  if (items.length > rows) lines.push(`- … and ${items.length - rows} more: see ${where}.`)
  return lines
}

/** Each user of each account, with the account: one pass over the plan's accounts. */
function* usersOf(plan: RunPlan): Generator<{ account: PlanAccount; user: PlanUser }> {
  for (const account of plan.accounts) {
    for (const user of account.users) yield { account, user }
  }
}

const accountCell = (account: PlanAccount) => `${account.accountId} ${cell(account.accountName)}`

function* headerLines(plan: RunPlan): Generator<string> {
  const t = plan.totals
  const changed =
    plan.mode === 'audit'
      ? 'Audit: nothing in AWS was changed; the actions below are what enforce mode would do.'
      : 'Enforce: the results below are what was done.'
  const run = plan.runUrl
    ? `Run [${cell(plan.runId)}](${plan.runUrl}) · [report artifact](${plan.runUrl}#artifacts)`
    : `Run ${cell(plan.runId)}`
  yield* [
    `# IAM access key rotation: ${plan.mode}`,
    '',
    `**${plan.timeline}**`,
    '',
    changed,
    '',
    `${run} · ${readableTime(plan.generatedAt)}`,
    ''
  ]
  const stop = plan.interrupted
  if (stop) {
    yield `**Stopped early:** the run received ${stop.signal} during ${stop.phase} (${readableTime(stop.at)}). This plan lists what it did until then${stop.accountsNotReached > 0 ? `; ${plural(stop.accountsNotReached, 'account')} in scope ${stop.accountsNotReached === 1 ? 'was' : 'were'} not reached` : ''}. The next run reads every key again.`
    yield ''
  }
  const notProcessed = [
    t.failedAccounts > 0 ? `${t.failedAccounts.toLocaleString('en-US')} failed` : '',
    t.skippedAccounts > 0 ? `${t.skippedAccounts.toLocaleString('en-US')} skipped` : ''
  ].filter(Boolean)
  const failed = notProcessed.length > 0 ? ` (${notProcessed.join(', ')})` : ''
  const exempt = t.exemptUsers > 0 ? ` · ${plural(t.exemptUsers, 'exempt user')}` : ''
  yield `**${plural(t.accounts, 'account')}**${failed} · ${plural(t.usersScanned, 'user')} · ${plural(t.keysScanned, 'key')} scanned${exempt}`
  yield ''
}

/** One row of the action list: an action type for one reason, counted. */
interface ActionGroup {
  readonly type: ActionType
  readonly reason: string
  keys: number
  readonly results: Map<string, number>
  earliestDue: string | undefined
  dueNow: boolean
}

/** The action list: every action grouped by type and reason, with results and the first date due. */
function* actionLines(plan: RunPlan): Generator<string> {
  const groups = new Map<string, ActionGroup>()
  for (const { user } of usersOf(plan)) {
    for (const action of user.actions) {
      const id = `${action.type} ${action.reason}`
      let group = groups.get(id)
      if (!group) {
        group = {
          type: action.type,
          reason: action.reason,
          keys: 0,
          results: new Map(),
          earliestDue: undefined,
          dueNow: false
        }
        groups.set(id, group)
      }
      group.keys++
      group.results.set(action.result, (group.results.get(action.result) ?? 0) + 1)
      if (!action.dueAt || action.dueAt <= plan.generatedAt) group.dueNow = true
      else if (!group.earliestDue || action.dueAt < group.earliestDue)
        group.earliestDue = action.dueAt
    }
  }
  yield '## To act on'
  yield ''
  if (groups.size === 0) {
    const t = plan.totals
    yield plan.interrupted
      ? 'No key needs an action among those read before the run stopped: see below.'
      : t.failedAccounts + t.failedUsers > 0
        ? 'No key needs an action, but not every account or user could be read: see below.'
        : t.stateTampered + t.secretRepairs > 0
          ? 'No key needs an action, but records or secrets are not as the tool left them: see below.'
          : 'Nothing to act on: every key in scope is within policy.'
    yield ''
    return
  }
  yield '| action | reason | keys | result | due |'
  yield '|---|---|---:|---|---|'
  const sorted = [...groups.values()].sort(
    (a, b) =>
      ACTION_ORDER.indexOf(a.type) - ACTION_ORDER.indexOf(b.type) ||
      a.reason.localeCompare(b.reason)
  )
  for (const group of sorted) {
    const results = [...group.results.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([result, count]) => `${count} ${result}`)
      .join(', ')
    const due = group.dueNow ? 'now' : `from ${day(group.earliestDue)}`
    yield `| ${ACTION_ICONS[group.type]} ${group.type} | ${group.reason} | ${group.keys} | ${results} | ${due} |`
  }
  yield ''
  const t = plan.totals
  if (plan.mode === 'enforce' && (t.failedActions > 0 || t.skippedActions > 0)) {
    yield `${plural(t.failedActions, 'action')} failed and ${t.skippedActions} skipped; see below.`
    yield ''
  }
}

/** Failures, tampering, blocked keys, drifted secrets and failed actions: lists to work through. */
function* attentionLines(plan: RunPlan, rows: number): Generator<string> {
  yield* section(
    ['## Failed accounts', ''],
    (function* () {
      for (const account of plan.accounts) {
        if (account.status !== 'failed') continue
        yield `- **${account.accountId}** ${cell(account.accountName)}: ${cell(account.error)}`
      }
    })(),
    rows
  )

  yield* section(
    ['## Users that could not be scanned', '', '| account | user | error |', '|---|---|---|'],
    (function* () {
      for (const { account, user } of usersOf(plan)) {
        if (user.error === undefined) continue
        yield `| ${accountCell(account)} | ${cell(user.userName)} | ${cell(user.error)} |`
      }
    })(),
    rows
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
          yield `| ${accountCell(account)} | ${cell(user.userName)} | ${cell(finding.accessKeyId)} | ${cell(finding.problem)} |`
        }
      }
    })(),
    rows
  )

  yield* section(
    ['## Blocked keys', '', '| account | user | key | why |', '|---|---|---|---|'],
    (function* () {
      for (const { account, user } of usersOf(plan)) {
        for (const action of user.actions) {
          if (action.type !== 'BLOCKED') continue
          const why = action.detail ? `${action.message} ${action.detail}` : action.message
          yield `| ${accountCell(account)} | ${cell(user.userName)} | ${cell(action.accessKeyId)} | **${action.reason}**: ${cell(why)} |`
        }
      }
    })(),
    rows
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
          `| ${accountCell(account)} | ${cell(user.userName)} | ${cell(secret.name)} | ${cell(problem)} | ${cell(remedy)} | ${cell(result)} |`
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
    })(),
    rows
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
          yield `| ${accountCell(account)} | ${cell(user.userName)} | ${action.type} | ${cell(action.accessKeyId)} | ${action.result} | ${cell(action.error)} |`
        }
      }
    })(),
    rows
  )

  yield* section(
    ['## Warnings', ''],
    plan.warnings.map(w => `- ${cell(w)}`),
    rows
  )
}

/** What falls due in the next 7 days, per day: the changes the key policy makes. */
function* dueSoonLines(outlook: PlanOutlook | undefined): Generator<string> {
  if (!outlook) return
  const days = outlook.duePerDay.slice(0, 7).filter(d => d.rotate + d.deactivate + d.delete > 0)
  yield '## Due in the next 7 days'
  yield ''
  if (days.length === 0) {
    yield 'No key is rotated, deactivated or deleted in the next 7 days.'
    yield ''
    return
  }
  yield '| day | 🔄 rotate | ⏸️ deactivate | 🗑️ delete |'
  yield '|---|---:|---:|---:|'
  for (const d of days) yield `| ${d.day} | ${d.rotate} | ${d.deactivate} | ${d.delete} |`
  yield ''
}

/** Two Mermaid charts (GitHub renders them in summaries): key ages, and changes due per day. */
function* chartLines(plan: RunPlan): Generator<string> {
  const outlook = plan.outlook
  if (!outlook) return
  const label = (text: string) => `"${text.replace(/"/g, "'")}"`
  yield '## Key ages and what falls due'
  yield ''
  yield '```mermaid'
  yield 'xychart-beta'
  yield `    title "Active keys by age (rotation at ${plan.policy.R} days)"`
  yield `    x-axis "age in days" [${outlook.activeKeyAges.map(b => label(b.label)).join(', ')}]`
  yield '    y-axis "keys"'
  yield `    bar [${outlook.activeKeyAges.map(b => b.keys).join(', ')}]`
  yield '```'
  yield ''
  yield '```mermaid'
  yield 'xychart-beta'
  yield `    title "Keys rotated, deactivated or deleted per day, next ${outlook.duePerDay.length} days"`
  // Day of the month only: 30 full dates overlap on a phone-width chart.
  const from = outlook.duePerDay[0]?.day ?? ''
  yield `    x-axis "day of month, from ${from}" [${outlook.duePerDay.map(d => label(d.day.slice(8))).join(', ')}]`
  yield '    y-axis "keys"'
  yield `    bar [${outlook.duePerDay.map(d => d.rotate + d.deactivate + d.delete).join(', ')}]`
  yield '```'
  yield ''
  if (outlook.inactiveKeys > 0) {
    yield `${plural(outlook.inactiveKeys, 'inactive key')} not in the age chart.`
    yield ''
  }
}

function deploymentLines(plan: RunPlan, rows: number): string[] {
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
      ...bullets(deployment.differences, rows),
      ''
    )
  }
  const missing = deployment.missingInstances
  if (missing.length > 0) {
    const shown = missing.slice(0, rows).join(', ')
    const more = missing.length > rows ? ` and ${missing.length - rows} more (plan.json)` : ''
    lines.push(
      `Accounts in scope without a current stack instance (their member role is missing or outdated): ${shown}${more}`,
      ''
    )
  }
  for (const failed of deployment.failedInstances.slice(0, rows)) {
    lines.push(
      `- Stack instance in ${cell(failed.account)} ${cell(failed.region)} failed: ${cell(failed.reason)}`
    )
  }
  if (deployment.failedInstances.length > rows) {
    lines.push(`- … and ${deployment.failedInstances.length - rows} more (plan.json)`)
  }
  if (deployment.failedInstances.length > 0) lines.push('')
  for (const stack of deployment.centralStacks ?? []) {
    lines.push(
      `- Stack ${cell(stack.name)}: ${stack.status}${stack.reason ? ` (${cell(stack.reason)})` : ''}` +
        (stack.templateVersion ? `, template version ${cell(stack.templateVersion)}` : '') +
        (stack.drift ? `, drift ${cell(stack.drift)}` : '')
    )
    for (const line of bullets(stack.problems ?? [], rows)) lines.push(`  ${line}`)
    if (stack.fix) {
      lines.push(
        '',
        ...codeBlock(stack.fix.replace(/\n/g, ' '), 'sh')
          .split('\n')
          .map(l => `  ${l}`)
      )
    }
  }
  if ((deployment.centralStacks ?? []).length > 0) lines.push('')
  if (deployment.messages.length > 0) lines.push(...bullets(deployment.messages, rows), '')
  return lines
}

function notificationLines(plan: RunPlan, rows: number): string[] {
  const n = plan.notifications
  if (!n) return []
  const lines = [
    '## Notifications',
    '',
    `${plural(n.sent.length, 'email')} sent, ${n.failed.length} failed, ${n.unsent.length} not sent.`,
    ''
  ]
  const held = n.heldBack
  if (held) {
    // The counts above include the notice; this says what max-emails kept back.
    lines.push(
      `**max-emails ${held.maxEmails}:** ${plural(held.count, 'email')} held back (listed below as not sent); one notice about them to ${cell(held.notice.to)}: ${held.notice.result === 'unsent' ? 'not sent' : held.notice.result}.`,
      ''
    )
  }
  const classes = mailProblemClasses(n)
  for (const problem of classes.slice(0, rows)) {
    const shown = problem.to.slice(0, RECIPIENTS_PER_CLASS).map(cell).join(', ')
    const more = problem.to.length - RECIPIENTS_PER_CLASS
    lines.push(
      `- **${problem.what} ${plural(problem.to.length, 'email')}** to ${shown}${more > 0 ? ` and ${more} more` : ''}: ${cell(problem.why)}`
    )
    if (problem.fix) lines.push(`  - To fix it: ${cell(problem.fix)}`)
  }
  if (classes.length > rows) lines.push(`- … and ${classes.length - rows} more: see plan.json.`)
  if (classes.length > 0) lines.push('')
  // Owner tags refused (not an address, not on owner-email-domains) and accounts without one.
  if (n.warnings.length > 0) lines.push(...bullets(n.warnings, rows), '')
  return lines
}

/** Recipients named per class of mail problem; plan.json lists every mail. */
const RECIPIENTS_PER_CLASS = 5

interface MailProblemClass {
  readonly what: 'Failed:' | 'Not sent:'
  readonly why: string
  readonly fix: string | undefined
  readonly to: string[]
}

/** The failed and unsent mails grouped by what went wrong, each class with its fix. */
function mailProblemClasses(n: PlanNotifications): MailProblemClass[] {
  const classes = new Map<string, MailProblemClass>()
  const add = (
    what: MailProblemClass['what'],
    why: string,
    fix: string | undefined,
    to: string
  ) => {
    const key = JSON.stringify([what, why, fix])
    const found = classes.get(key) ?? { what, why, fix, to: [] }
    found.to.push(to)
    classes.set(key, found)
  }
  for (const mail of n.failed) add('Failed:', mail.error, mail.fix, mail.to)
  for (const mail of n.unsent) add('Not sent:', mail.reason, mail.fix, mail.to)
  return [...classes.values()]
}

function issueLines(plan: RunPlan, rows: number): string[] {
  const issues = plan.issues
  if (!issues) return []
  const link = (issue: { number: number; title: string; url: string }) =>
    `[#${issue.number}](${issue.url}) ${cell(issue.title)}`
  const lines = ['## GitHub issues', '']
  const changes = [
    ...issues.opened.map(issue => `- Opened ${link(issue)}`),
    ...issues.updated.map(issue => `- Updated ${link(issue)}`),
    ...issues.closed.map(issue => `- Closed ${link(issue)}`)
  ]
  lines.push(...changes.slice(0, rows))
  if (changes.length > rows) lines.push(`- … and ${changes.length - rows} more: see plan.json.`)
  const deferred = issues.deferred?.length ?? 0
  if (deferred > 0) {
    const where = issues.rollup ? `, listed in ${link(issues.rollup)}` : ''
    lines.push(
      `- ${plural(deferred, 'problem')} over max-new-issues ${deferred === 1 ? 'waits' : 'wait'} for ${deferred === 1 ? 'its' : 'their'} own issue${where}.`
    )
  }
  lines.push(
    `- ${plural(issues.unchanged, 'open issue')} unchanged.`,
    ...bullets(issues.warnings, rows),
    ''
  )
  return lines
}

/**
 * Everything before the per-account detail, in the order a person acts on it: header and totals,
 * the action list, the lists of problems, what falls due this week, the charts, then stacks,
 * mails and issues.
 */
function* headLines(plan: RunPlan, limits: MarkdownLimits): Generator<string> {
  yield* headerLines(plan)
  yield* actionLines(plan)
  yield* attentionLines(plan, limits.rows)
  yield* dueSoonLines(plan.outlook)
  yield* chartLines(plan)
  yield* deploymentLines(plan, limits.rows)
  yield* notificationLines(plan, limits.rows)
  yield* issueLines(plan, limits.rows)
}

/** A user's problems that are not actions: a failed scan, tampered state, a secret not as made. */
function problemsOf(user: PlanUser): string[] {
  const secret = user.secret
  return [
    ...(user.error !== undefined ? [`could not be scanned: ${user.error}`] : []),
    ...(user.stateFindings ?? []).map(
      finding => `state of key ${finding.accessKeyId} ignored (STATE_TAMPERED): ${finding.problem}`
    ),
    ...(secret && !secret.owned
      ? [
          `secret ${secret.name}: not created by this tool (${secret.problem ?? 'no marker'}), never written`
        ]
      : []),
    ...(secret?.repairs ?? []).map(
      repair =>
        `secret ${secret?.name ?? ''}: ${repair.problem}; repair: ${repair.remedy} (${repair.result})`
    )
  ]
}

/** The users of an account worth a row or a line: an action, an exemption, a note or a problem. */
function reportedUsers(account: PlanAccount): PlanUser[] {
  return account.users.filter(
    user => user.actions.length > 0 || user.exempt || user.notes || problemsOf(user).length > 0
  )
}

/**
 * How much an account's detail matters: 0 something broken or blocked, 1 a change, 2 a warning,
 * exemption or note, undefined nothing to report (failed and skipped accounts are listed apart).
 */
function importance(account: PlanAccount): 0 | 1 | 2 | undefined {
  if (account.status !== 'ok') return undefined
  const users = reportedUsers(account)
  if (users.length === 0) return undefined
  const actions = users.flatMap(user => user.actions)
  if (
    actions.some(a => a.type === 'BLOCKED' || a.result === 'failed' || a.result === 'skipped') ||
    users.some(user => problemsOf(user).length > 0)
  ) {
    return 0
  }
  if (actions.some(a => a.type !== 'WARN')) return 1
  return 2
}

function actionCounts(actions: readonly PlanAction[]): string {
  const counts = new Map<ActionType, number>()
  for (const action of actions) counts.set(action.type, (counts.get(action.type) ?? 0) + 1)
  return ACTION_ORDER.filter(type => counts.has(type))
    .map(type => `${counts.get(type)} ${type.toLowerCase()}`)
    .join(', ')
}

/** One account's detail, folded: a summary line, then a six-column table of its keys. */
function accountDetail(account: PlanAccount, rowLimit: number): string {
  const users = reportedUsers(account)
  const actions = users.flatMap(user => user.actions)
  const exempt = users.filter(user => user.exempt).length
  const problems = users.flatMap(user =>
    problemsOf(user).map(problem => `- ${cell(user.userName)}: ${cell(problem)}`)
  )
  const what = [
    actionCounts(actions),
    exempt > 0 ? plural(exempt, 'exempt user') : '',
    problems.length > 0 ? plural(problems.length, 'problem') : ''
  ]
    .filter(Boolean)
    .join(', ')
  const lines = [
    `<details><summary><b>${account.accountId}</b> ${htmlText(account.accountName)}: ${htmlText(what)}</summary>`,
    '',
    `${plural(account.usersScanned, 'user')}, ${plural(account.keysScanned, 'key')} scanned.`,
    ''
  ]
  // One account with thousands of users must not fill the summary: rows and lines are capped.
  const more = (hidden: number) =>
    hidden > 0
      ? ['', `_… and ${plural(hidden, 'more row')}: see plan.md in the report artifact._`]
      : []
  const rows = users.flatMap(userRows)
  if (rows.length > 0) {
    lines.push(
      '| user | key | action | due | result | key facts |',
      '|---|---|---|---|---|---|',
      ...rows.slice(0, rowLimit),
      ...more(rows.length - rowLimit)
    )
  }
  const notes = [
    ...problems,
    ...users.flatMap(user =>
      (user.notes ?? []).map(note => `- ${cell(user.userName)}: ${cell(note)}`)
    )
  ]
  if (notes.length > 0)
    lines.push('', ...notes.slice(0, rowLimit), ...more(notes.length - rowLimit))
  lines.push('', '</details>', '')
  return lines.join('\n')
}

function userCell(user: PlanUser): string {
  return user.owner ? `${cell(user.userName)}<br>owner ${cell(user.owner)}` : cell(user.userName)
}

function userRows(user: PlanUser): string[] {
  if (user.exempt && user.actions.length === 0) {
    return [`| ${userCell(user)} | | exempt | | | ${plural(user.keys.length, 'key')} |`]
  }
  return user.actions.map(action => {
    const key = user.keys.find(k => k.accessKeyId === action.accessKeyId)
    const facts = key ? `${key.status} · ${key.ageDays} d · last used ${day(key.lastUsedAt)}` : ''
    const result = action.newAccessKeyId
      ? `${action.result} → ${cell(action.newAccessKeyId)}`
      : action.result
    return (
      `| ${userCell(user)} | ${cell(action.accessKeyId)} | ${ACTION_ICONS[action.type]} ${action.type}<br>${action.reason} | ` +
      `${day(action.dueAt) || 'now'} | ${result} | ${cell(facts)} |`
    )
  })
}

/**
 * The per-account detail: a count of the accounts with nothing to do, then a folded block per
 * account with something to report. plan.md has every account in id order; the summary fills
 * its budget with the accounts that matter most first (broken or blocked, then changes, then
 * warnings) and points to plan.md for the rest.
 */
function* detailLines(plan: RunPlan, limits: MarkdownLimits): Generator<string> {
  let quiet = 0
  let reported = 0
  const skipped: string[] = []
  for (const account of plan.accounts) {
    const rank = importance(account)
    if (account.status === 'skipped') skipped.push(account.reason ?? 'UNKNOWN')
    else if (rank !== undefined) reported++
    else if (account.status === 'ok') quiet++
  }
  yield '## Accounts'
  yield ''
  if (quiet > 0) {
    yield `**${plural(quiet, 'account')}** with nothing to do.`
    yield ''
  }
  if (skipped.length > 0) {
    // Not scanned, and said so: an auditor can tell "closed" from "forgotten". One count line,
    // the accounts folded under it.
    yield `<details><summary><b>${plural(skipped.length, 'account')} skipped:</b> ${htmlText(skippedStates(skipped))}</summary>`
    yield ''
    let listed = 0
    for (const account of plan.accounts) {
      if (account.status !== 'skipped' || listed++ >= limits.rows) continue
      yield `- **${account.accountId}** ${cell(account.accountName)}: ${cell(account.error)}`
    }
    if (skipped.length > limits.rows) {
      yield `- … and ${skipped.length - limits.rows} more: see plan.md in the report artifact.`
    }
    yield ''
    yield '</details>'
    yield ''
  }
  if (reported === 0) return
  let room = limits.detailBytes
  let shown = 0
  const ranks = limits.detailBytes === Infinity ? [undefined] : [0, 1, 2]
  for (const wanted of ranks) {
    for (const account of plan.accounts) {
      const rank = importance(account)
      if (rank === undefined || (wanted !== undefined && rank !== wanted)) continue
      if (room <= 0) continue
      const detail = accountDetail(account, limits.rows)
      const size = Buffer.byteLength(detail) + 1
      if (size > room && shown > 0) {
        room = 0
        continue
      }
      room -= size
      shown++
      yield detail
    }
  }
  if (shown < reported) {
    yield `_${plural(reported - shown, 'more account')} with something to report ${reported - shown === 1 ? 'is' : 'are'} in plan.md in the report artifact._`
    yield ''
  }
}

/**
 * plan.md in pieces whose concatenation is the file, line by line; memory stays at one account,
 * whatever the size of the plan (every section is one more pass over the accounts).
 */
export function* planMarkdownChunks(
  plan: RunPlan,
  limits: MarkdownLimits = UNLIMITED
): Generator<string> {
  let first = true
  for (const line of [headLines(plan, limits), detailLines(plan, limits)]) {
    for (const piece of line) {
      yield first ? piece : `\n${piece}`
      first = false
    }
  }
}

export function planMarkdown(plan: RunPlan): string {
  return [...planMarkdownChunks(plan)].join('')
}

/**
 * The job summary: plan.md with each list and the per-account detail bounded (SUMMARY_LIMITS),
 * so the action list always shows. Should that still exceed `limitBytes` (GitHub's step
 * summary limit), it is cut at a line with a pointer to plan.md; the action list comes first,
 * so the cut takes detail before it.
 */
export function summaryMarkdown(
  plan: RunPlan,
  limitBytes = SUMMARY_LIMIT_BYTES,
  limits: MarkdownLimits = SUMMARY_LIMITS
): string {
  const budget = limitBytes - 300
  const parts: string[] = []
  let size = 0
  // Each piece is a line or a whole account block, so a cut never leaves a <details> open.
  for (const piece of planMarkdownChunks(clipTexts(plan, limits.text), limits)) {
    size += Buffer.byteLength(piece)
    if (size > budget) {
      parts.push(
        "\n\n_The rest of this report is not shown here, to stay under GitHub's step summary limit: see plan.md in the report artifact._\n"
      )
      break
    }
    parts.push(piece)
  }
  return parts.join('')
}

/** `text` cut to `limit` characters with `…`: a long AWS error or a crafted name cannot fill the summary. */
function clip(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, Math.max(1, limit - 1))}…` : text
}

/**
 * The plan with its free texts (errors, details, notes, problems, warnings) cut to `limit`
 * characters, read lazily so the accounts stay on disk; plan.md and plan.json keep them whole.
 */
function clipTexts(plan: RunPlan, limit: number): RunPlan {
  if (limit === Infinity) return plan
  const c = (text: string) => clip(text, limit)
  const optional = <T extends object, K extends keyof T>(value: T, key: K): Partial<T> =>
    typeof value[key] === 'string' ? ({ [key]: c(value[key]) } as Partial<T>) : {}
  const clipUser = (user: PlanUser): PlanUser => ({
    ...user,
    ...optional(user, 'error'),
    ...(user.notes ? { notes: user.notes.map(c) } : {}),
    ...(user.stateFindings
      ? { stateFindings: user.stateFindings.map(f => ({ ...f, problem: c(f.problem) })) }
      : {}),
    ...(user.secret
      ? {
          secret: {
            ...user.secret,
            ...optional(user.secret, 'problem'),
            repairs: user.secret.repairs.map(r => ({ ...r, ...optional(r, 'error') }))
          }
        }
      : {}),
    actions: user.actions.map(a => ({ ...a, ...optional(a, 'detail'), ...optional(a, 'error') }))
  })
  const accounts = plan.accounts
  const deployment = plan.deployment
  const notifications = plan.notifications
  const issues = plan.issues
  return {
    ...plan,
    accounts: {
      *[Symbol.iterator]() {
        for (const account of accounts) {
          yield { ...account, ...optional(account, 'error'), users: account.users.map(clipUser) }
        }
      }
    },
    warnings: plan.warnings.map(c),
    ...(deployment
      ? {
          deployment: {
            ...deployment,
            differences: deployment.differences.map(c),
            messages: deployment.messages.map(c),
            failedInstances: deployment.failedInstances.map(f => ({ ...f, reason: c(f.reason) })),
            ...(deployment.centralStacks
              ? {
                  centralStacks: deployment.centralStacks.map(stack => ({
                    ...stack,
                    ...optional(stack, 'reason'),
                    ...(stack.problems ? { problems: stack.problems.map(c) } : {})
                  }))
                }
              : {})
          }
        }
      : {}),
    ...(notifications
      ? {
          notifications: {
            ...notifications,
            failed: notifications.failed.map(m => ({ ...m, error: c(m.error) })),
            unsent: notifications.unsent.map(m => ({ ...m, reason: c(m.reason) })),
            warnings: notifications.warnings.map(c)
          }
        }
      : {}),
    ...(issues ? { issues: { ...issues, warnings: issues.warnings.map(c) } } : {})
  }
}
