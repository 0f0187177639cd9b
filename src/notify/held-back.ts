import type { Mode } from '../inputs.js'
import type { Mail } from './mails.js'
import { renderHtml, renderText } from './templates.js'
import { plural } from '../util/plural.js'

/** Held-back mails named in the notice; plan.json lists every one. */
export const HELD_BACK_LISTED = 50

/**
 * The order in which mails go out, and so which ones max-emails (and the SES quota) keep: the
 * accounts' email addresses first, then owner-only mails, each group in the given order (most
 * severe first, then by address). Account addresses come from Organizations, one per account,
 * and each carries every item of its account, so the fewest mails reach someone for every item;
 * owner tags can be set by a member account's administrators, so they cannot crowd the account
 * mails out. Owner mails take turns by account (the account of their first item): one account's
 * many tagged owners cannot crowd out the owners of the others. Stable otherwise.
 */
export function sendingOrder(mails: readonly Mail[]): Mail[] {
  const turns = new Map<string, number>()
  const owners = mails
    .filter(mail => !mail.accountContact)
    .map((mail, index) => {
      const account = mail.items[0]?.accountId ?? ''
      const turn = turns.get(account) ?? 0
      turns.set(account, turn + 1)
      return { mail, turn, index }
    })
    .sort((a, b) => a.turn - b.turn || a.index - b.index)
    .map(({ mail }) => mail)
  return [...mails.filter(mail => mail.accountContact), ...owners]
}

export interface HeldBackContext {
  readonly sender: string
  readonly maxEmails: number
  readonly mode: Mode
  readonly runId: string
  readonly runUrl?: string
}

const TEXT = `max-emails held back {{heldCount}} of the {{total}} notification mails of this run.

Run {{runId}} of the IAM key rotation action ({{mode}} mode) had {{total}} notification mails to send. The input max-emails is {{maxEmails}}: {{withinPart}}; {{heldPart}} held back:

{{#listed}}
- {{to}}: {{subject}}
{{/listed}}
{{#more}}
- ... and {{more}} more.
{{/more}}

Every held-back mail is listed in plan.json of the run's report (notifications.unsent). They are not queued: the next run mails what is due then.

To send them, first check that the recipients are right (owner addresses come from the IAM users' owner tags, which each account's administrators can set; owner-email-domains restricts them), then raise max-emails in the workflow to at least {{total}}:

    max-emails: {{total}}
{{#runUrl}}

Run: {{runUrl}}
{{/runUrl}}
`

const HTML = `<!doctype html>
<html><body style="font-family: sans-serif">
<p><strong>max-emails held back {{heldCount}} of the {{total}} notification mails of this run.</strong></p>
<p>Run {{runId}} of the IAM key rotation action ({{mode}} mode) had {{total}} notification mails to send. The input <code>max-emails</code> is {{maxEmails}}: {{withinPart}}; {{heldPart}} held back:</p>
<ul>
{{#listed}}
<li>{{to}}: {{subject}}</li>
{{/listed}}
{{#more}}
<li>... and {{more}} more.</li>
{{/more}}
</ul>
<p>Every held-back mail is listed in plan.json of the run's report (<code>notifications.unsent</code>). They are not queued: the next run mails what is due then.</p>
<p>To send them, first check that the recipients are right (owner addresses come from the IAM users' owner tags, which each account's administrators can set; <code>owner-email-domains</code> restricts them), then raise <code>max-emails</code> in the workflow to at least {{total}}:</p>
<pre>max-emails: {{total}}</pre>
{{#runUrl}}
<p><a href="{{runUrl}}">The workflow run</a></p>
{{/runUrl}}
</body></html>
`

/** What became of the mails within max-emails. */
export interface WithinCap {
  readonly sent: number
  readonly failed: number
  /** Stopped by the SES quota, paused sending or a stopped run. */
  readonly unsent: number
}

/** The one mail to sender-email when max-emails held mails back: how many, to whom, and the fix. */
export function heldBackNotice(
  held: readonly Mail[],
  within: WithinCap,
  context: HeldBackContext
): Mail {
  const withinCount = within.sent + within.failed + within.unsent
  const total = withinCount + held.length
  const outcome = [
    `${within.sent} sent`,
    ...(within.failed > 0 ? [`${within.failed} failed`] : []),
    ...(within.unsent > 0 ? [`${within.unsent} not sent (SES quota or a stopped run)`] : [])
  ].join(', ')
  const listed = held.slice(0, HELD_BACK_LISTED).map(({ to, subject }) => ({ to, subject }))
  const view = {
    heldCount: held.length,
    total,
    maxEmails: context.maxEmails,
    mode: context.mode,
    runId: context.runId,
    withinPart:
      withinCount === 0
        ? 'no mail went out'
        : `${withinCount === 1 ? 'the first mail' : `the first ${withinCount} mails`} (account addresses, then owners, most severe first) went to SES (${outcome})`,
    heldPart: held.length === 1 ? 'this one was' : `these ${held.length} were`,
    listed,
    more: held.length > listed.length ? held.length - listed.length : false,
    runUrl: context.runUrl ?? false
  }
  const subject = `[IAM key rotation · ${context.mode}] ${held.length} of ${plural(total, 'notification mail')} held back by max-emails ${context.maxEmails}`
  return {
    from: context.sender,
    to: context.sender,
    subject,
    html: renderHtml(HTML, view),
    text: renderText(TEXT, view),
    items: []
  }
}
