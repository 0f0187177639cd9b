import { GetSendQuotaCommand, SendEmailCommand, SESClient } from '@aws-sdk/client-ses'
import { mockClient } from 'aws-sdk-client-mock'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  HELD_BACK_LISTED,
  heldBackNotice,
  sendingOrder,
  type HeldBackContext
} from '../../src/notify/held-back.js'
import type { Mail } from '../../src/notify/mails.js'
import { sendNotifications, type NotifyLog, type SendOptions } from '../../src/notify/send.js'

const ses = mockClient(SESClient)
const client = new SESClient({ region: 'eu-west-1' })
const SENDER = 'security@example.com'

function mail(to: string, accountContact = false): Mail {
  return {
    from: SENDER,
    to,
    subject: `[IAM key rotation · audit] 1 warning in 222222222222 (dev) for ${to}`,
    text: `text for ${to}`,
    html: `<p>html for ${to}</p>`,
    items: [],
    accountContact
  }
}

function recordingLog() {
  const lines = { info: [] as string[], warning: [] as string[], debug: [] as string[] }
  const log: NotifyLog = {
    info: m => lines.info.push(m),
    warning: m => lines.warning.push(m),
    debug: m => lines.debug.push(m)
  }
  return { log, lines }
}

const CONTEXT: HeldBackContext = {
  sender: SENDER,
  maxEmails: 2,
  mode: 'audit',
  runId: '1234-1',
  runUrl: 'https://github.com/acme/keys/actions/runs/1234'
}

function capped(maxEmails: number, log: NotifyLog): SendOptions {
  return {
    region: 'eu-west-1',
    log,
    sleep: () => Promise.resolve(),
    cap: {
      maxEmails,
      notice: (held, within) => heldBackNotice(held, within, { ...CONTEXT, maxEmails })
    }
  }
}

/** The recipients SES was asked to mail, in order. */
function sentTo(): string[] {
  return ses
    .commandCalls(SendEmailCommand)
    .flatMap(call => call.args[0].input.Destination?.ToAddresses ?? [])
}

beforeEach(() => {
  ses.reset()
  ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 1000, SentLast24Hours: 0, MaxSendRate: 0 })
  let id = 0
  ses.on(SendEmailCommand).callsFake(() => ({ MessageId: `msg-${++id}` }))
})

describe('sendingOrder', () => {
  it('puts the account addresses first, then owners, each group in the given order', () => {
    const mails = [
      mail('owner-blocked@example.com'),
      mail('prod@example.com', true),
      mail('owner-warn@example.com'),
      mail('dev@example.com', true)
    ]
    expect(sendingOrder(mails).map(m => m.to)).toEqual([
      'prod@example.com',
      'dev@example.com',
      'owner-blocked@example.com',
      'owner-warn@example.com'
    ])
  })
})

describe('sendingOrder across accounts', () => {
  it('lets owner mails take turns by account, so one account cannot spend the cap', () => {
    const owner = (to: string, accountId: string): Mail => ({
      ...mail(to),
      items: [{ accountId } as Mail['items'][number]]
    })
    const mails = [
      owner('a1@example.com', '111111111111'),
      owner('a2@example.com', '111111111111'),
      owner('a3@example.com', '111111111111'),
      owner('b1@example.com', '222222222222'),
      owner('c1@example.com', '333333333333')
    ]
    expect(sendingOrder(mails).map(m => m.to)).toEqual([
      'a1@example.com',
      'b1@example.com',
      'c1@example.com',
      'a2@example.com',
      'a3@example.com'
    ])
  })
})

describe('max-emails', () => {
  it('sends at most max-emails mails, holds the rest back and sends one notice to the sender', async () => {
    const { log, lines } = recordingLog()
    const mails = [
      mail('alice@example.com'),
      mail('bob@example.com'),
      mail('dev@example.com', true),
      mail('prod@example.com', true),
      mail('carol@example.com')
    ]
    const result = await sendNotifications(client, mails, capped(2, log))

    // The account addresses fit the cap; the owners are held back; the notice goes last.
    expect(sentTo()).toEqual(['dev@example.com', 'prod@example.com', SENDER])
    expect(result.sent.map(m => m.to)).toEqual(['dev@example.com', 'prod@example.com', SENDER])
    expect(result.failed).toEqual([])
    expect(result.unsent).toEqual(
      ['alice@example.com', 'bob@example.com', 'carol@example.com'].map(to => ({
        to,
        subject: expect.stringContaining(to) as string,
        reason: 'held back: max-emails 2 reached',
        fix: 'raise max-emails (2 now) to send them all.'
      }))
    )
    expect(result.heldBack).toEqual({
      maxEmails: 2,
      count: 3,
      notice: {
        to: SENDER,
        subject: '[IAM key rotation · audit] 3 of 5 notification mails held back by max-emails 2',
        result: 'sent'
      }
    })
    expect(lines.warning.join('\n')).toMatch(
      /max-emails 2: 3 of 5 notification mails are held back .*Raise max-emails/
    )
    expect(lines.info.at(-1)).toBe(
      `Notifications: 3 sent, 0 failed, 3 not sent (3 held back by max-emails 2; the notice to ${SENDER} is sent).`
    )

    const notice = ses.commandCalls(SendEmailCommand).at(-1)?.args[0].input
    expect(notice?.Source).toBe(SENDER)
    const text = notice?.Message?.Body?.Text?.Data ?? ''
    expect(text).toContain('max-emails held back 3 of the 5 notification mails of this run.')
    expect(text).toContain('2 sent')
    for (const to of ['alice@example.com', 'bob@example.com', 'carol@example.com']) {
      expect(text).toContain(`- ${to}: `)
    }
    expect(text).not.toContain('dev@example.com')
    expect(text).toContain('max-emails: 5')
    expect(text).toContain(CONTEXT.runUrl)
  })

  it('sends no notice when every mail fits', async () => {
    const { log } = recordingLog()
    const result = await sendNotifications(
      client,
      [mail('a@example.com'), mail('b@example.com')],
      capped(2, log)
    )
    expect(sentTo()).toEqual(['a@example.com', 'b@example.com'])
    expect(result.unsent).toEqual([])
    expect(result.heldBack).toBeUndefined()
  })

  it('max-emails 0 holds every mail back and sends only the notice', async () => {
    const { log } = recordingLog()
    const result = await sendNotifications(
      client,
      [mail('a@example.com'), mail('dev@example.com', true)],
      capped(0, log)
    )
    expect(sentTo()).toEqual([SENDER])
    expect(result.unsent.map(m => m.to)).toEqual(['dev@example.com', 'a@example.com'])
    expect(result.heldBack?.count).toBe(2)
    const text = ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Message?.Body?.Text?.Data
    expect(text).toContain('The input max-emails is 0: no mail went out; these 2 were held back')
  })

  it('counts the notice against the SES quota, and reports it unsent when the quota ends first', async () => {
    ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 1, SentLast24Hours: 0, MaxSendRate: 0 })
    const { log, lines } = recordingLog()
    const result = await sendNotifications(
      client,
      [mail('a@example.com'), mail('b@example.com')],
      capped(1, log)
    )
    expect(sentTo()).toEqual(['a@example.com'])
    expect(lines.warning.join('\n')).toMatch(/1 of 2 notification mails can be sent/)
    expect(result.heldBack?.notice.result).toBe('unsent')
    expect(result.unsent.map(m => [m.to, m.reason])).toEqual([
      ['b@example.com', 'held back: max-emails 1 reached'],
      [SENDER, expect.stringMatching(/quota/) as string]
    ])
  })

  it('records a notice SES rejects as failed', async () => {
    ses
      .on(SendEmailCommand, { Destination: { ToAddresses: [SENDER] } })
      .rejects(Object.assign(new Error('boom'), { name: 'InternalFailure' }))
    const { log } = recordingLog()
    const result = await sendNotifications(
      client,
      [mail('a@example.com'), mail('b@example.com')],
      capped(1, log)
    )
    expect(result.sent.map(m => m.to)).toEqual(['a@example.com'])
    expect(result.failed).toEqual([expect.objectContaining({ to: SENDER, error: 'boom' })])
    expect(result.heldBack?.notice.result).toBe('failed')
  })

  it('a stopped run sends neither the remaining mails nor the notice', async () => {
    const stop = new AbortController()
    stop.abort()
    const { log } = recordingLog()
    const result = await sendNotifications(client, [mail('a@example.com'), mail('b@example.com')], {
      ...capped(1, log),
      stop: stop.signal
    })
    expect(sentTo()).toEqual([])
    expect(result.unsent.map(m => m.to)).toEqual(['a@example.com', 'b@example.com', SENDER])
    expect(result.heldBack?.notice.result).toBe('unsent')
  })
})

describe('heldBackNotice', () => {
  it(`names the first ${HELD_BACK_LISTED} held-back addresses and counts the rest`, () => {
    const held = Array.from({ length: HELD_BACK_LISTED + 7 }, (_, i) => mail(`u${i}@example.com`))
    const notice = heldBackNotice(held, { sent: 2, failed: 0, unsent: 0 }, CONTEXT)
    expect(notice.to).toBe(SENDER)
    expect(notice.from).toBe(SENDER)
    expect(notice.text).toContain(`- u${HELD_BACK_LISTED - 1}@example.com: `)
    expect(notice.text).not.toContain(`u${HELD_BACK_LISTED}@example.com`)
    expect(notice.text).toContain('- ... and 7 more.')
    expect(notice.text).toContain(`max-emails: ${HELD_BACK_LISTED + 9}`)
    expect(notice.html).toContain('<li>... and 7 more.</li>')
  })

  it.each([
    ['a&b@example.com', 'a&amp;b@example.com'],
    ["o'neil@example.com", 'o&#39;neil@example.com'],
    ['x@example.com</li><script>', 'x@example.com&lt;&#x2F;li&gt;&lt;script&gt;']
  ])('escapes the hostile address %s in the HTML part', (to, escaped) => {
    const notice = heldBackNotice([mail(to)], { sent: 0, failed: 0, unsent: 0 }, CONTEXT)
    expect(notice.html).toContain(escaped)
    expect(notice.html).not.toContain(to)
    // The text part is plain text: the address as it is.
    expect(notice.text).toContain(`- ${to}: `)
  })

  it('says what became of the mails within the cap', () => {
    const notice = heldBackNotice(
      [mail('a@example.com')],
      { sent: 3, failed: 1, unsent: 1 },
      { ...CONTEXT, maxEmails: 5 }
    )
    expect(notice.text).toContain(
      'The input max-emails is 5: the first 5 mails (account addresses, then owners, most severe first) went to SES (3 sent, 1 failed, 1 not sent (SES quota or a stopped run)); this one was held back:'
    )
  })
})
