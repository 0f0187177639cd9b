import {
  GetSendQuotaCommand,
  SendEmailCommand,
  VerifyEmailIdentityCommand
} from '@aws-sdk/client-ses'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from './index.js'
import { clients, NOW, rejection, testWorld } from './support.js'

function mail(from: string, to: string[], subject = 'Key rotation') {
  return new SendEmailCommand({
    Source: from,
    Destination: { ToAddresses: to, CcAddresses: ['audit@example.com'] },
    Message: {
      Subject: { Data: subject },
      Body: {
        Text: { Data: 'Your key will be rotated.' },
        Html: { Data: '<p>Your key will be rotated.</p>' }
      }
    }
  })
}

describe('SES', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => emulator.loadWorld(testWorld()))

  it('sends from a verified identity and keeps the mail for inspection', async () => {
    const { ses } = clients(emulator)
    const sent = await ses.send(
      mail('IAM Key Rotation <security@example.com>', ['alice@example.com'])
    )
    expect(sent.MessageId).toMatch(/-000000$/)
    const [email, ...others] = emulator.emails()
    expect(others).toEqual([])
    expect(email).toEqual({
      messageId: sent.MessageId,
      accountId: '111111111111',
      region: 'us-east-1',
      from: 'IAM Key Rotation <security@example.com>',
      to: ['alice@example.com'],
      cc: ['audit@example.com'],
      bcc: [],
      replyTo: [],
      subject: 'Key rotation',
      text: 'Your key will be rotated.',
      html: '<p>Your key will be rotated.</p>',
      time: email?.time
    })
    expect(email?.time.slice(0, 13)).toBe(NOW.slice(0, 13))
  })

  it('rejects unverified senders with MessageRejected, as SES does', async () => {
    const { ses } = clients(emulator)
    const error = await rejection(
      ses.send(mail('noreply@elsewhere.example', ['alice@example.com']))
    )
    expect(error.name).toBe('MessageRejected')
    expect(error.message).toBe(
      'Email address is not verified. The following identities failed the check in region US-EAST-1: noreply@elsewhere.example'
    )
    expect(emulator.emails()).toEqual([])
    await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: 'noreply@elsewhere.example' }))
    await expect(
      ses.send(mail('noreply@elsewhere.example', ['alice@example.com']))
    ).resolves.toBeDefined()
  })

  it('counts every recipient against the daily quota', async () => {
    emulator.loadWorld(
      testWorld({ ses: { verifiedIdentities: ['example.com'], max24HourSend: 5 } })
    )
    const { ses } = clients(emulator)
    await ses.send(mail('security@example.com', ['a@example.com', 'b@example.com']))
    const quota = await ses.send(new GetSendQuotaCommand({}))
    expect(quota).toMatchObject({ Max24HourSend: 5, MaxSendRate: 14, SentLast24Hours: 3 })
    const error = await rejection(
      ses.send(mail('security@example.com', ['c@example.com', 'd@example.com']))
    )
    expect(error.name).toBe('Throttling')
    expect(error.message).toBe('Daily message quota exceeded.')
    emulator.advanceDays(1.01)
    expect((await ses.send(new GetSendQuotaCommand({}))).SentLast24Hours).toBe(0)
  })

  it('defaults the quota to 50,000 a day', async () => {
    const quota = await clients(emulator).ses.send(new GetSendQuotaCommand({}))
    expect(quota.Max24HourSend).toBe(50_000)
  })
})
