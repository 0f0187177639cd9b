import { DAY_MS } from '../clock.js'
import { ServiceError } from '../protocol/errors.js'
import type { RequestParams, ResponseValue } from '../protocol/values.js'
import {
  callerAccount,
  operations,
  queryValidationError,
  type QueryServiceDefinition,
  type RequestContext
} from '../service.js'
import { getOrCreate, type Account, type EmulatorState, type SesRegionState } from '../state.js'

/**
 * SES v1 (AWS Query). Identities verified in the world are verified for every account and
 * region; VerifyEmailIdentity verifies at once for the caller's account and region.
 */

/** Sent mail kept for inspection; older mail is dropped beyond this (benchmarks send a lot). */
const MAX_STORED_EMAILS = 50_000

function regionState(account: Account, region: string): SesRegionState {
  return getOrCreate(account.ses, region, () => ({
    verifiedIdentities: new Set(),
    sendTimes: [],
    firstRecent: 0
  }))
}

/** `"Security Team <security@example.com>"` → `security@example.com`. */
export function addressOf(source: string): string {
  const bracketed = /<([^>]+)>/.exec(source)
  return (bracketed?.[1] ?? source).trim()
}

/** The verified identity that covers an address: the address itself, or else its domain. */
function verifiedIdentity(
  state: EmulatorState,
  local: SesRegionState | undefined,
  address: string
): string | undefined {
  const verified = (identity: string): boolean =>
    state.config.ses.verifiedIdentities.has(identity) ||
    local?.verifiedIdentities.has(identity) === true
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase()
  if (verified(address.toLowerCase())) return address
  return verified(domain) ? domain : undefined
}

function isVerified(state: EmulatorState, local: SesRegionState, address: string): boolean {
  return verifiedIdentity(state, local, address) !== undefined
}

/**
 * The identity a send is authorized through: the verified one that covers the sender, or the
 * address itself when none does (SES then refuses the unverified sender).
 */
export function sendingIdentity(
  state: EmulatorState,
  account: Account,
  region: string,
  address: string
): string {
  return verifiedIdentity(state, account.ses.get(region), address) ?? address
}

/** Recipients delivered in the 24 hours before `now`. */
function sentLast24Hours(local: SesRegionState, now: Date): number {
  const since = now.getTime() - DAY_MS
  const times = local.sendTimes
  while (local.firstRecent < times.length && (times[local.firstRecent] ?? 0) <= since) {
    local.firstRecent += 1
  }
  if (local.firstRecent > 1024 && local.firstRecent > times.length / 2) {
    times.splice(0, local.firstRecent)
    local.firstRecent = 0
  }
  return times.length - local.firstRecent
}

function sendEmail(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const local = regionState(account, ctx.region)
  const source = params.requiredString('Source')
  const from = addressOf(source)
  if (!isVerified(ctx.state, local, from)) {
    throw new ServiceError(
      'MessageRejected',
      `Email address is not verified. The following identities failed the check in region ${ctx.region.toUpperCase()}: ${from}`
    )
  }
  const destination = params.struct('Destination')
  const to = destination?.stringList('ToAddresses') ?? []
  const cc = destination?.stringList('CcAddresses') ?? []
  const bcc = destination?.stringList('BccAddresses') ?? []
  const recipients = to.length + cc.length + bcc.length
  if (recipients === 0) {
    throw new ServiceError('InvalidParameterValue', "Missing required header 'To'.")
  }
  const message = params.struct('Message')
  if (!message) throw queryValidationError('Message')
  const body = message.struct('Body')
  const { max24HourSend } = ctx.state.config.ses
  if (sentLast24Hours(local, ctx.now) + recipients > max24HourSend) {
    throw new ServiceError('Throttling', 'Daily message quota exceeded.')
  }
  for (let i = 0; i < recipients; i++) local.sendTimes.push(ctx.now.getTime())
  const messageId = `${ctx.state.ids.uuid()}-000000`
  const { emails } = ctx.state
  emails.push({
    messageId,
    accountId: account.id,
    region: ctx.region,
    from: source,
    to,
    cc,
    bcc,
    replyTo: params.stringList('ReplyToAddresses'),
    subject: message.struct('Subject')?.string('Data') ?? '',
    text: body?.struct('Text')?.string('Data'),
    html: body?.struct('Html')?.string('Data'),
    time: ctx.now.toISOString()
  })
  if (emails.length > MAX_STORED_EMAILS * 1.1) emails.splice(0, emails.length - MAX_STORED_EMAILS)
  return { MessageId: messageId }
}

function getSendQuota(ctx: RequestContext): ResponseValue {
  const local = regionState(callerAccount(ctx), ctx.region)
  const { max24HourSend, maxSendRate } = ctx.state.config.ses
  return {
    Max24HourSend: max24HourSend,
    MaxSendRate: maxSendRate,
    SentLast24Hours: sentLast24Hours(local, ctx.now)
  }
}

function verifyEmailIdentity(ctx: RequestContext, params: RequestParams): ResponseValue {
  const address = params.requiredString('EmailAddress').toLowerCase()
  regionState(callerAccount(ctx), ctx.region).verifiedIdentities.add(address)
  return {}
}

export const sesService: QueryServiceDefinition = {
  name: 'ses',
  protocol: 'query',
  xmlNamespace: 'http://ses.amazonaws.com/doc/2010-12-01/',
  missingParameter: queryValidationError,
  faultErrors: {
    throttling: () => new ServiceError('Throttling', 'Maximum sending rate exceeded.'),
    internalErrorCode: 'InternalFailure'
  },
  operations: operations({
    SendEmail: sendEmail,
    GetSendQuota: getSendQuota,
    VerifyEmailIdentity: verifyEmailIdentity
  })
}
