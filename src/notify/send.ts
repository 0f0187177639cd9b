import { GetSendQuotaCommand, SendEmailCommand, type SESClient } from '@aws-sdk/client-ses'
import { errorMessage } from '../util/errors.js'
import { sendingOrder, type WithinCap } from './held-back.js'
import type { Mail } from './mails.js'

export interface NotifyLog {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

export interface SendOptions {
  /** Region of the SES client (aws-region), named in the advice when SES rejects a mail. */
  readonly region: string
  readonly log: NotifyLog
  /** Waits between sends to stay under SES's maximum send rate; tests pass a no-op. */
  readonly sleep?: (ms: number) => Promise<void>
  /** The run was stopped: the mails not sent yet are reported unsent. */
  readonly stop?: AbortSignal
  /**
   * max-emails: the most mails sent to recipients this run. The mails over it are held back
   * (reported unsent) and one notice about them, from `notice`, goes out after the others.
   */
  readonly cap?: {
    readonly maxEmails: number
    readonly notice: (held: readonly Mail[], within: WithinCap) => Mail
  }
}

export interface SentMail {
  readonly to: string
  readonly subject: string
  readonly messageId: string
}

export interface FailedMail {
  readonly to: string
  readonly subject: string
  /** SES error code (e.g. MessageRejected), when there is one. */
  readonly code?: string
  readonly error: string
  /** What a person does about it, when the class of failure has a known fix. */
  readonly fix?: string
}

export interface UnsentMail {
  readonly to: string
  readonly subject: string
  readonly reason: string
  readonly fix?: string
}

/**
 * The fix for each class of mail that did not go out, in one place: the plan carries it beside
 * every such mail, the summary beside each class, the log once.
 */
export const MAIL_FIXES = {
  rejected: (sender: string, region: string) =>
    `verify the sender identity ${sender} (or its domain) in Amazon SES in ${region}, the aws-region input. ` +
    `While the SES account is in the sandbox it can only send to verified addresses: verify the recipients too, ` +
    `or request production access to leave the sandbox.`,
  paused: (region: string) => `resume sending for the account in the SES console (${region}).`,
  quota: (region: string) =>
    `request a higher sending quota for SES in ${region}, or lower max-emails.`,
  heldBack: (maxEmails: number) => `raise max-emails (${maxEmails} now) to send them all.`
} as const

/** max-emails was reached: how many mails it held back, and the notice sent about them. */
export interface HeldBack {
  readonly maxEmails: number
  /** Mails over the cap; each is in `unsent` as well. */
  readonly count: number
  /** The notice to the sender (also listed in `sent`, `failed` or `unsent`). */
  readonly notice: {
    readonly to: string
    readonly subject: string
    readonly result: 'sent' | 'failed' | 'unsent'
  }
}

export interface NotificationResult {
  readonly sent: SentMail[]
  readonly failed: FailedMail[]
  /** Not attempted: held back by max-emails, the sending quota was reached or sending is paused. */
  readonly unsent: UnsentMail[]
  /** Already logged as warnings; kept for the summary. */
  readonly warnings: string[]
  readonly heldBack?: HeldBack
}

type SesSender = Pick<SESClient, 'send'>

const sleepFor = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))

/**
 * Sends each mail with SES v1 SendEmail, one recipient per mail, in `sendingOrder` (account
 * addresses first). Sends at most `cap.maxEmails`; the rest is held back and reported unsent,
 * and one notice about it goes to the sender. Reads the sending quota first and stops at it; the
 * rest is reported as unsent. Never throws for a mail that fails: the run's key actions stand
 * whatever happens to its notifications.
 */
export async function sendNotifications(
  ses: SesSender,
  mails: readonly Mail[],
  options: SendOptions
): Promise<NotificationResult> {
  const { log, region, cap } = options
  const sleep = options.sleep ?? sleepFor
  const result: { -readonly [K in keyof NotificationResult]: NotificationResult[K] } = {
    sent: [],
    failed: [],
    unsent: [],
    warnings: []
  }
  if (mails.length === 0) return result
  const warn = (message: string) => {
    result.warnings.push(message)
    log.warning(message)
  }

  const ordered = sendingOrder(mails)
  const within = cap ? ordered.slice(0, cap.maxEmails) : ordered
  const held = ordered.slice(within.length)
  if (cap && held.length > 0) {
    warn(
      `max-emails ${cap.maxEmails}: ${held.length} of ${mails.length} notification mails are held back (listed in the plan); one notice about them goes to the sender ${held[0]?.from ?? ''}. Raise max-emails to send them all.`
    )
  }
  // The notice counts against the SES quota like any mail.
  const toSend = within.length + (held.length > 0 ? 1 : 0)

  const quota = await readQuota(ses, warn)
  let remaining = quota.remaining
  if (remaining < toSend) {
    warn(
      `SES sending quota in ${region}: ${Math.max(remaining, 0)} of ${toSend} notification mails can be sent ` +
        `(Max24HourSend ${quota.max}, SentLast24Hours ${quota.sentLast24Hours}). The rest is not sent; ` +
        MAIL_FIXES.quota(region)
    )
  }
  const intervalMs = quota.maxSendRate > 0 ? Math.ceil(1000 / quota.maxSendRate) : 0
  let rejectionAdviceGiven = false
  let stopReason: string | undefined
  let stopFix: string | undefined

  let attempts = 0
  /** Sends one mail, or records why it is not sent; says which list it landed in. */
  const attempt = async (mail: Mail): Promise<'sent' | 'failed' | 'unsent'> => {
    if (stopReason === undefined && remaining <= 0) {
      stopReason = `SES sending quota of ${quota.max} mails per 24 hours in ${region} reached`
      stopFix = MAIL_FIXES.quota(region)
    }
    if (stopReason === undefined && options.stop?.aborted) {
      stopReason = 'the run was stopped before this mail was sent'
    }
    if (stopReason !== undefined) {
      result.unsent.push({
        to: mail.to,
        subject: mail.subject,
        reason: stopReason,
        ...(stopFix ? { fix: stopFix } : {})
      })
      return 'unsent'
    }
    if (attempts++ > 0 && intervalMs > 0) await sleep(intervalMs)
    try {
      const response = await ses.send(
        new SendEmailCommand({
          Source: mail.from,
          Destination: { ToAddresses: [mail.to] },
          Message: {
            Subject: { Data: mail.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: mail.text, Charset: 'UTF-8' },
              Html: { Data: mail.html, Charset: 'UTF-8' }
            }
          }
        })
      )
      remaining--
      result.sent.push({ to: mail.to, subject: mail.subject, messageId: response.MessageId ?? '' })
      log.debug(`Mail sent to ${mail.to}: ${mail.subject} (${response.MessageId ?? 'no id'})`)
      return 'sent'
    } catch (error) {
      const code = error instanceof Error && error.name !== 'Error' ? error.name : undefined
      const message = errorMessage(error)
      if (code === 'Throttling' && /quota/i.test(message)) {
        stopReason = `SES daily sending quota in ${region} reached: ${message}`
        stopFix = MAIL_FIXES.quota(region)
        result.unsent.push({
          to: mail.to,
          subject: mail.subject,
          reason: stopReason,
          fix: stopFix
        })
        warn(`${stopReason}. The remaining notification mails are not sent.`)
        return 'unsent'
      }
      const rejected = code === 'MessageRejected' || code === 'MailFromDomainNotVerifiedException'
      const paused = code === 'AccountSendingPausedException'
      const fix = rejected
        ? MAIL_FIXES.rejected(mail.from, region)
        : paused
          ? MAIL_FIXES.paused(region)
          : undefined
      result.failed.push({
        to: mail.to,
        subject: mail.subject,
        ...(code ? { code } : {}),
        error: message,
        ...(fix ? { fix } : {})
      })
      // One mail's failure is the log's; the plan lists it with its fix, and the summary groups them.
      if (paused) {
        stopReason = `SES sending is paused for the account in ${region}`
        stopFix = fix
        warn(
          `${stopReason}: ${message}. No further notification mails are sent; ${MAIL_FIXES.paused(region)}`
        )
      } else if (rejected) {
        log.warning(`SES rejected the notification mail to ${mail.to}: ${message}`)
        if (!rejectionAdviceGiven) {
          rejectionAdviceGiven = true
          log.warning(`To fix it: ${fix} The key actions of this run are not affected.`)
        }
      } else {
        log.warning(`Notification mail to ${mail.to} failed: ${code ? `${code}: ` : ''}${message}`)
      }
      return 'failed'
    }
  }

  const count = { sent: 0, failed: 0, unsent: 0 }
  for (const mail of within) count[await attempt(mail)]++
  if (cap && held.length > 0) {
    const reason = `held back: max-emails ${cap.maxEmails} reached`
    const fix = MAIL_FIXES.heldBack(cap.maxEmails)
    for (const mail of held) result.unsent.push({ to: mail.to, subject: mail.subject, reason, fix })
    const notice = cap.notice(held, count)
    result.heldBack = {
      maxEmails: cap.maxEmails,
      count: held.length,
      notice: { to: notice.to, subject: notice.subject, result: await attempt(notice) }
    }
  }
  log.info(
    `Notifications: ${result.sent.length} sent, ${result.failed.length} failed, ${result.unsent.length} not sent` +
      (result.heldBack
        ? ` (${result.heldBack.count} held back by max-emails ${result.heldBack.maxEmails}; the notice to ${result.heldBack.notice.to} is ${result.heldBack.notice.result}).`
        : '.')
  )
  return result
}

interface Quota {
  /** Mails that may still be sent now; Infinity when unknown or unlimited. */
  readonly remaining: number
  readonly max: number | string
  readonly sentLast24Hours: number | string
  readonly maxSendRate: number
}

async function readQuota(ses: SesSender, warn: (message: string) => void): Promise<Quota> {
  try {
    const quota = await ses.send(new GetSendQuotaCommand({}))
    const max = quota.Max24HourSend
    const sent = quota.SentLast24Hours ?? 0
    // SES reports -1 for an unlimited quota.
    const remaining = max === undefined || max < 0 ? Infinity : Math.floor(max - sent)
    return {
      remaining,
      max: max ?? 'unknown',
      sentLast24Hours: sent,
      maxSendRate: quota.MaxSendRate ?? 0
    }
  } catch (error) {
    warn(
      `Could not read the SES sending quota (${errorMessage(error)}); sending without checking it. ` +
        `The central role needs ses:GetSendQuota.`
    )
    return { remaining: Infinity, max: 'unknown', sentLast24Hours: 'unknown', maxSendRate: 0 }
  }
}
