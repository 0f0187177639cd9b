import {
  AccountSendingPausedException,
  GetSendQuotaCommand,
  MessageRejected,
  SendEmailCommand,
  SESClient,
  SESServiceException
} from '@aws-sdk/client-ses'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Mail } from '../../src/notify/mails.js'
import { sendNotifications, type NotifyLog } from '../../src/notify/send.js'

const ses = mockClient(SESClient)
const client = new SESClient({ region: 'eu-west-1' })

function mail(to: string): Mail {
  return {
    from: 'security@example.com',
    to,
    subject: `[IAM key rotation · enforce] 1 key rotated in 222222222222 (dev) for ${to}`,
    text: `text for ${to}`,
    html: `<p>html for ${to}</p>`,
    items: []
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

const noSleep = () => Promise.resolve()

function throttling(message: string): SESServiceException {
  return new SESServiceException({
    name: 'Throttling',
    $fault: 'client',
    $metadata: {},
    message
  })
}

beforeEach(() => {
  ses.reset()
  ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 200, SentLast24Hours: 0, MaxSendRate: 0 })
  let id = 0
  ses.on(SendEmailCommand).callsFake(() => ({ MessageId: `msg-${++id}` }))
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('sendNotifications', () => {
  it('sends one SendEmail per mail with the text and HTML parts', async () => {
    const { log } = recordingLog()
    const result = await sendNotifications(client, [mail('a@example.com'), mail('b@example.com')], {
      region: 'eu-west-1',
      log,
      sleep: noSleep
    })
    expect(result.sent.map(s => [s.to, s.messageId])).toEqual([
      ['a@example.com', 'msg-1'],
      ['b@example.com', 'msg-2']
    ])
    expect(result.failed).toEqual([])
    expect(result.unsent).toEqual([])
    const [first] = ses.commandCalls(SendEmailCommand)
    expect(first?.args[0].input).toEqual({
      Source: 'security@example.com',
      Destination: { ToAddresses: ['a@example.com'] },
      Message: {
        Subject: {
          Data: '[IAM key rotation · enforce] 1 key rotated in 222222222222 (dev) for a@example.com',
          Charset: 'UTF-8'
        },
        Body: {
          Text: { Data: 'text for a@example.com', Charset: 'UTF-8' },
          Html: { Data: '<p>html for a@example.com</p>', Charset: 'UTF-8' }
        }
      }
    })
  })

  it('makes no call at all when there is nothing to send', async () => {
    const { log } = recordingLog()
    const result = await sendNotifications(client, [], { region: 'eu-west-1', log })
    expect(result).toEqual({ sent: [], failed: [], unsent: [], warnings: [] })
    expect(ses.calls()).toHaveLength(0)
  })

  it('stops at the 24-hour quota and reports the rest as unsent', async () => {
    ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 10, SentLast24Hours: 8, MaxSendRate: 1 })
    const { log, lines } = recordingLog()
    const mails = ['a', 'b', 'c', 'd'].map(n => mail(`${n}@example.com`))
    const result = await sendNotifications(client, mails, {
      region: 'eu-west-1',
      log,
      sleep: noSleep
    })
    expect(result.sent.map(s => s.to)).toEqual(['a@example.com', 'b@example.com'])
    expect(result.unsent.map(u => u.to)).toEqual(['c@example.com', 'd@example.com'])
    expect(result.unsent[0]).toMatchObject({
      reason: 'SES sending quota of 10 mails per 24 hours in eu-west-1 reached',
      fix: 'request a higher sending quota for SES in eu-west-1, or lower max-emails.'
    })
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2)
    expect(lines.warning).toEqual([
      'SES sending quota in eu-west-1: 2 of 4 notification mails can be sent (Max24HourSend 10, SentLast24Hours 8). ' +
        'The rest is not sent; request a higher sending quota for SES in eu-west-1, or lower max-emails.'
    ])
  })

  it('treats a negative Max24HourSend as unlimited', async () => {
    ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: -1, SentLast24Hours: 5000 })
    const { log } = recordingLog()
    const result = await sendNotifications(client, [mail('a@example.com')], {
      region: 'eu-west-1',
      log,
      sleep: noSleep
    })
    expect(result.sent).toHaveLength(1)
  })

  it('stops when SES reports the daily quota exceeded while sending', async () => {
    ses
      .on(SendEmailCommand)
      .resolvesOnce({ MessageId: 'msg-1' })
      .rejectsOnce(throttling('Daily message quota exceeded.'))
    const { log, lines } = recordingLog()
    const mails = ['a', 'b', 'c'].map(n => mail(`${n}@example.com`))
    const result = await sendNotifications(client, mails, {
      region: 'eu-west-1',
      log,
      sleep: noSleep
    })
    expect(result.sent.map(s => s.to)).toEqual(['a@example.com'])
    expect(result.unsent.map(u => u.to)).toEqual(['b@example.com', 'c@example.com'])
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2)
    expect(lines.warning[0]).toContain('SES daily sending quota in eu-west-1 reached')
  })

  it('MessageRejected: records the failure, says how to fix it once, and goes on', async () => {
    ses
      .on(SendEmailCommand)
      .rejectsOnce(
        new MessageRejected({
          $metadata: {},
          message:
            'Email address is not verified. The following identities failed the check in region EU-WEST-1: security@example.com'
        })
      )
      .rejectsOnce(
        new MessageRejected({ $metadata: {}, message: 'Email address is not verified.' })
      )
      .resolves({ MessageId: 'msg-3' })
    const { log, lines } = recordingLog()
    const mails = ['a', 'b', 'c'].map(n => mail(`${n}@example.com`))
    const result = await sendNotifications(client, mails, {
      region: 'eu-west-1',
      log,
      sleep: noSleep
    })
    expect(result.failed.map(f => [f.to, f.code])).toEqual([
      ['a@example.com', 'MessageRejected'],
      ['b@example.com', 'MessageRejected']
    ])
    expect(result.sent.map(s => s.to)).toEqual(['c@example.com'])
    const advice = lines.warning.filter(w => w.startsWith('To fix it'))
    expect(advice).toEqual([
      'To fix it: verify the sender identity security@example.com (or its domain) in Amazon SES in eu-west-1, the aws-region input. ' +
        'While the SES account is in the sandbox it can only send to verified addresses: verify the recipients too, ' +
        'or request production access to leave the sandbox. The key actions of this run are not affected.'
    ])
    // Each failed mail carries the fix in the plan; the warnings kept for it are run-level only.
    for (const failed of result.failed) {
      expect(failed.fix).toBe(
        'verify the sender identity security@example.com (or its domain) in Amazon SES in eu-west-1, the aws-region input. ' +
          'While the SES account is in the sandbox it can only send to verified addresses: verify the recipients too, ' +
          'or request production access to leave the sandbox.'
      )
    }
    expect(result.warnings).toEqual([])
  })

  it('another error fails that mail only', async () => {
    ses
      .on(SendEmailCommand)
      .rejectsOnce(new Error('socket hang up'))
      .resolves({ MessageId: 'msg-2' })
    const { log, lines } = recordingLog()
    const result = await sendNotifications(client, [mail('a@example.com'), mail('b@example.com')], {
      region: 'eu-west-1',
      log,
      sleep: noSleep
    })
    expect(result.failed).toEqual([
      {
        to: 'a@example.com',
        subject: mail('a@example.com').subject,
        error: 'socket hang up'
      }
    ])
    expect(result.sent.map(s => s.to)).toEqual(['b@example.com'])
    expect(lines.warning).toEqual(['Notification mail to a@example.com failed: socket hang up'])
  })

  it('stops when sending is paused for the account', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(new AccountSendingPausedException({ $metadata: {}, message: 'Sending paused' }))
    const { log } = recordingLog()
    const result = await sendNotifications(client, [mail('a@example.com'), mail('b@example.com')], {
      region: 'eu-west-1',
      log,
      sleep: noSleep
    })
    expect(result.failed.map(f => f.to)).toEqual(['a@example.com'])
    expect(result.unsent.map(u => u.to)).toEqual(['b@example.com'])
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1)
  })

  it('sends without the check when the quota cannot be read', async () => {
    ses.on(GetSendQuotaCommand).rejects(new Error('AccessDenied'))
    const { log, lines } = recordingLog()
    const result = await sendNotifications(client, [mail('a@example.com')], {
      region: 'eu-west-1',
      log,
      sleep: noSleep
    })
    expect(result.sent).toHaveLength(1)
    expect(lines.warning[0]).toMatch(/Could not read the SES sending quota \(AccessDenied\)/)
  })

  it('spaces the sends to stay under the maximum send rate', async () => {
    ses.on(GetSendQuotaCommand).resolves({ Max24HourSend: 200, SentLast24Hours: 0, MaxSendRate: 2 })
    const sleep = vi.fn(noSleep)
    const { log } = recordingLog()
    await sendNotifications(
      client,
      ['a', 'b', 'c'].map(n => mail(`${n}@example.com`)),
      {
        region: 'eu-west-1',
        log,
        sleep
      }
    )
    expect(sleep.mock.calls).toEqual([[500], [500]])
  })
})
