import { cpSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Plan } from '../../src/plan/types.js'
import { startEmulator, type Emulator, type SentEmail, type World } from '../emulator/index.js'
import {
  AMBIENT_CREDENTIALS,
  ORG,
  planActions,
  runAgainstEmulator,
  type EmulatedRun
} from '../support/emulated-action.js'
import { runAction, warningLines } from '../support/run-action.js'
import { testTempDir } from '../support/temp-dirs.js'

const PROD = '222222222222'
const OWNER = 'owner@example.com'
const ACCOUNT_EMAIL = 'prod-account@example.com'
const SENDER = 'security@example.com'

/** One key with an owner, 83 days old when the world loads: day N of the test is age N. */
function world(ses: World['ses'] = { verifiedIdentities: [SENDER] }, ageDays = 83): World {
  return {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: '111111111111',
    listAccountsRole: true,
    accounts: [
      { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
      {
        id: PROD,
        name: 'prod',
        email: ACCOUNT_EMAIL,
        memberRole: true,
        users: [
          {
            name: 'ci-bot',
            tags: { owner: OWNER },
            keys: [{ status: 'Active', ageDays, lastUsedDaysAgo: 0 }]
          }
        ]
      }
    ],
    ses
  }
}

const NOTIFY = {
  ...ORG,
  mode: 'enforce',
  notify: 'true',
  'sender-email': SENDER,
  'notify-account-email': 'true',
  'reminder-days': '1'
}

function mailBodies(mail: SentEmail): string {
  return `${mail.subject}\n${mail.text ?? ''}\n${mail.html ?? ''}`
}

// The scenarios are independent (each has its own emulator) and spend their time in child
// processes: they run side by side.
describe.concurrent('notifications through dist/index.js', () => {
  describe.each(['enforce', 'audit'] as const)(
    'a warning whose window opened on a day without a run (%s)',
    mode => {
      it(
        mode === 'enforce'
          ? 'gets its entry mail on the next run, once, and its reminder after'
          : 'gets no entry mail: audit writes no state, so only the opening day can tell (the documented limit); the reminder still comes',
        async () => {
          // The window of the rotation at day 90 opens at day 83 (warning-days 7).
          const emulator = await startEmulator({ world: world(undefined, 81) })
          try {
            const ownerMailsOn = async (advance: number) => {
              emulator.advanceDays(advance)
              const before = emulator.emails().length
              const run = await runAgainstEmulator(emulator, { ...NOTIFY, mode })
              expect(run.exitCode, run.stdout).toBe(0)
              return emulator
                .emails()
                .slice(before)
                .filter(mail => mail.to.includes(OWNER))
            }
            expect(await ownerMailsOn(0)).toEqual([]) // day 81: no warning yet
            // Days 82, 83 (the window opens) and 84 have no run.
            const day85 = await ownerMailsOn(4)
            expect(day85).toHaveLength(mode === 'enforce' ? 1 : 0)
            if (mode === 'enforce') {
              expect(day85[0]?.subject).toBe(
                `[IAM key rotation · enforce] 1 warning in ${PROD} (prod)`
              )
            }
            expect(await ownerMailsOn(1)).toEqual([]) // day 86: already announced
            expect(await ownerMailsOn(3)).toHaveLength(1) // day 89: the reminder (1 day ahead)
          } finally {
            await emulator.close()
          }
        }
      )
    }
  )

  describe('notifications over a key’s whole timeline, one enforce run a day (days 83 → 110)', () => {
    let emulator: Emulator
    /** Mails by day of the run that sent them. */
    const mailsByDay = new Map<number, SentEmail[]>()
    const runs = new Map<number, EmulatedRun>()

    beforeAll(async () => {
      emulator = await startEmulator({ world: world() })
      for (let day = 83; day <= 110; day++) {
        if (day > 83) emulator.advanceDays(1)
        const before = emulator.emails().length
        const run = await runAgainstEmulator(emulator, NOTIFY)
        runs.set(day, run)
        mailsByDay.set(day, emulator.emails().slice(before))
      }
    }, 120_000)
    afterAll(() => emulator.close())

    it('every run succeeds and the key goes through rotate, deactivate and delete', () => {
      const done: [number, string][] = []
      for (const [day, run] of runs) {
        expect(run.exitCode, `day ${day}\n${run.stdout}`).toBe(0)
        for (const action of planActions(run.plan!)) {
          if (action.result === 'done') done.push([day, action.type])
        }
      }
      expect(done).toEqual([
        [90, 'ROTATE'],
        [100, 'DEACTIVATE'],
        [110, 'DELETE']
      ])
    })

    it('mails each recipient on entering a warning window, on the reminder day and per action only', () => {
      // Warn 7 d ahead (entry) and 1 d ahead (reminder-days: 1) of each of the three actions.
      const expectedDays = [83, 89, 90, 93, 99, 100, 103, 109, 110]
      for (const recipient of [OWNER, ACCOUNT_EMAIL]) {
        const days = [...mailsByDay]
          .filter(([, mails]) => mails.some(mail => mail.to.includes(recipient)))
          .map(([day]) => day)
        expect(days, recipient).toEqual(expectedDays)
        // At most one mail per recipient per run: a digest, not one mail per key.
        for (const [day, mails] of mailsByDay) {
          expect(
            mails.filter(mail => mail.to.includes(recipient)).length,
            `${recipient} on day ${day}`
          ).toBeLessThanOrEqual(1)
        }
      }
      const all = emulator.emails()
      const perRecipient = new Map<string, number>()
      for (const mail of all) {
        expect(mail.from).toBe(SENDER)
        expect(mail.to).toHaveLength(1)
        for (const to of mail.to) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1)
      }
      // Configured reminders (entry + 1 reminder day, for 3 warnings) plus 3 actions done.
      expect(Object.fromEntries(perRecipient)).toEqual({ [OWNER]: 9, [ACCOUNT_EMAIL]: 9 })
    })

    it('says in each subject what happened, most severe first', () => {
      const subjects = (day: number) =>
        (mailsByDay.get(day) ?? []).filter(m => m.to.includes(OWNER)).map(m => m.subject)
      expect(subjects(83)).toEqual([`[IAM key rotation · enforce] 1 warning in ${PROD} (prod)`])
      expect(subjects(90)).toEqual([`[IAM key rotation · enforce] 1 key rotated in ${PROD} (prod)`])
      expect(subjects(100)).toEqual([
        `[IAM key rotation · enforce] 1 key deactivated in ${PROD} (prod)`
      ])
      expect(subjects(110)).toEqual([
        `[IAM key rotation · enforce] 1 key deleted in ${PROD} (prod)`
      ])
    })

    it('tells where to fetch the new key, and never sends a secret', () => {
      const rotationMail = (mailsByDay.get(90) ?? []).find(m => m.to.includes(OWNER))
      expect(rotationMail?.text).toContain(`iam-key-rotation/${PROD}/ci-bot`)
      const secrets = emulator.issuedSecrets()
      // The world's key and the replacement made on day 90.
      expect(secrets.length).toBeGreaterThanOrEqual(2)
      for (const mail of emulator.emails()) {
        const body = mailBodies(mail)
        for (const secret of secrets) expect(body).not.toContain(secret)
      }
    })

    it('records every sent mail in plan.json', () => {
      for (const [day, run] of runs) {
        const sent = run.plan?.notifications?.sent ?? []
        expect(sent.map(m => m.to).sort(), `day ${day}`).toEqual(
          (mailsByDay.get(day) ?? []).flatMap(m => m.to).sort()
        )
        expect(run.plan?.notifications?.failed ?? []).toEqual([])
      }
    })
  })

  describe('an unverified sender', () => {
    it('keeps the key actions, warns how to fix it and lists the failed mails in the plan', async () => {
      // The central role may send as the address (IAM allows it); SES has not verified it.
      const emulator = await startEmulator({
        world: { ...world(), bootstrap: { central: { SenderEmail: 'not-verified@example.com' } } }
      })
      try {
        emulator.advanceDays(7) // day 90: the key is rotated
        const run = await runAgainstEmulator(emulator, {
          ...NOTIFY,
          'sender-email': 'not-verified@example.com'
        })
        expect(run.exitCode, run.stdout).toBe(0)
        expect(planActions(run.plan!).find(a => a.user === 'ci-bot')).toMatchObject({
          type: 'ROTATE',
          result: 'done'
        })
        expect(emulator.emails()).toEqual([])

        const warnings = warningLines(run).join('\n')
        expect(warnings).toMatch(/SES rejected the notification mail/)
        expect(warnings).toMatch(/verify the sender identity not-verified@example\.com/)
        expect(warnings).toMatch(/key actions of this run are not affected/)

        const failed = run.plan?.notifications?.failed ?? []
        expect(failed.map(m => m.to).sort()).toEqual([OWNER, ACCOUNT_EMAIL].sort())
        for (const mail of failed) expect(mail.error).toMatch(/not verified/)
        expect(run.plan?.notifications?.sent).toEqual([])
        expect(run.summary).toMatch(/0 emails sent, 2 failed/)
        // The summary carries the fix beside the failed mails, once for the class, as plan.json does.
        expect(run.summary).toMatch(
          /\*\*Failed: 2 emails\*\* to .*\n {2}- To fix it: verify the sender identity not-verified@(&#8203;)?example\.com/
        )
        for (const mail of failed) expect(mail.fix).toMatch(/^verify the sender identity/)
      } finally {
        await emulator.close()
      }
    })
  })

  describe('the SES sending quota', () => {
    it('stops at the quota and reports the mails it did not send', async () => {
      const emulator = await startEmulator({
        world: world({ verifiedIdentities: [SENDER], max24HourSend: 1 })
      })
      try {
        emulator.advanceDays(7)
        const run = await runAgainstEmulator(emulator, NOTIFY)
        expect(run.exitCode, run.stdout).toBe(0)
        expect(emulator.emails()).toHaveLength(1)
        const notifications = run.plan?.notifications
        expect(notifications?.sent).toHaveLength(1)
        expect(notifications?.unsent).toEqual([
          expect.objectContaining({ reason: expect.stringMatching(/quota/) as string })
        ])
        expect(
          [...(notifications?.sent ?? []), ...(notifications?.unsent ?? [])].map(m => m.to).sort()
        ).toEqual([OWNER, ACCOUNT_EMAIL].sort())
        expect(warningLines(run).join('\n')).toMatch(/1 of 2 notification mails can be sent/)
        expect(run.summary).toMatch(/1 email sent, 0 failed, 1 not sent/)
      } finally {
        await emulator.close()
      }
    })
  })

  describe('max-emails', () => {
    const DEV = '444444444444'
    const DEV_EMAIL = 'dev-account@example.com'
    const SECOND = 'second@example.com'
    const THIRD = 'third@example.com'
    const OWNERS = [OWNER, SECOND, THIRD]

    /** Five recipients: two account addresses and three owners, each with an expired key. */
    function crowded(): World {
      const expired = (name: string, owner: string) => ({
        name,
        tags: { owner },
        keys: [{ status: 'Active' as const, ageDays: 95, lastUsedDaysAgo: 0 }]
      })
      return {
        organizationId: 'o-a1b2c3d4e5',
        managementAccountId: '111111111111',
        listAccountsRole: true,
        accounts: [
          { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
          {
            id: PROD,
            name: 'prod',
            email: ACCOUNT_EMAIL,
            memberRole: true,
            users: [expired('ci-bot', OWNER), expired('deployer', SECOND)]
          },
          {
            id: DEV,
            name: 'dev',
            email: DEV_EMAIL,
            memberRole: true,
            users: [expired('app', THIRD)]
          }
        ],
        ses: { verifiedIdentities: [SENDER] }
      }
    }

    function expectCapped(run: EmulatedRun, mails: SentEmail[]) {
      expect(run.exitCode, run.stdout).toBe(0)
      // The first account address (by address, at equal severity), then the notice.
      expect(mails.map(mail => mail.to)).toEqual([[DEV_EMAIL], [SENDER]])
      const notice = mails[1]
      expect(notice?.from).toBe(SENDER)
      expect(notice?.subject).toMatch(/4 of 5 notification mails held back by max-emails 1$/)
      for (const to of [ACCOUNT_EMAIL, ...OWNERS]) expect(notice?.text).toContain(`- ${to}: `)
      expect(notice?.text).toContain('max-emails: 5')

      const notifications = run.plan?.notifications
      expect(notifications?.sent.map(mail => mail.to)).toEqual([DEV_EMAIL, SENDER])
      expect(notifications?.failed).toEqual([])
      // Owner mails take turns by account: prod's first owner, dev's, then prod's second.
      expect(notifications?.unsent.map(mail => [mail.to, mail.reason])).toEqual(
        [ACCOUNT_EMAIL, OWNER, THIRD, SECOND].map(to => [to, 'held back: max-emails 1 reached'])
      )
      expect(notifications?.heldBack).toEqual({
        maxEmails: 1,
        count: 4,
        notice: { to: SENDER, subject: notice?.subject, result: 'sent' }
      })
      expect(run.summary).toMatch(/2 emails sent, 0 failed, 4 not sent/)
      expect(run.summary).toMatch(/max-emails 1:\*\* 4 emails held back/)
      expect(warningLines(run).join('\n')).toMatch(/max-emails 1: 4 of 5 notification mails/)
    }

    it.each(['audit', 'enforce'] as const)(
      '%s: sends one mail and one notice to the sender, and lists the rest in plan.json',
      async mode => {
        const emulator = await startEmulator({ world: crowded() })
        try {
          const run = await runAgainstEmulator(emulator, {
            ...NOTIFY,
            mode,
            'max-emails': '1'
          })
          expectCapped(run, emulator.emails())
          if (mode === 'enforce') {
            // The cap holds mail back, never key work.
            expect(planActions(run.plan!).filter(a => a.result === 'done')).toHaveLength(3)
          }
        } finally {
          await emulator.close()
        }
      }
    )

    it('in a sharded run the merge job mails, and its max-emails applies', async () => {
      const emulator = await startEmulator({ world: crowded() })
      try {
        const dir = testTempDir('mail-cap-shards-')
        for (let k = 1; k <= 2; k++) {
          // The shard jobs' max-emails is moot: they send nothing.
          const shard = await runAgainstEmulator(emulator, {
            ...NOTIFY,
            mode: 'audit',
            'max-emails': '0',
            shard: `${k}/2`
          })
          expect(shard.exitCode, shard.stdout).toBe(0)
          cpSync(shard.outputs['report-dir'] ?? '', join(dir, `report-${k}`), { recursive: true })
        }
        expect(emulator.emails()).toEqual([])
        const merged = await runAction({
          inputs: {
            'merge-from': dir,
            notify: 'true',
            'sender-email': SENDER,
            'open-issues': 'false',
            'deploy-stacks': 'off',
            'max-emails': '1'
          },
          env: { ...AMBIENT_CREDENTIALS, AWS_ENDPOINT_URL: emulator.url }
        })
        const plan = JSON.parse(
          readFileSync(join(merged.outputs['report-dir'] ?? '', 'plan.json'), 'utf8')
        ) as Plan
        expectCapped({ ...merged, plan }, emulator.emails())
      } finally {
        await emulator.close()
      }
    })
  })

  describe('owner-email-domains', () => {
    it('mails no owner-tag address on another domain and reports it; account addresses are not filtered', async () => {
      const accountEmail = 'root+prod@aws-accounts.test'
      const emulator = await startEmulator({
        world: {
          organizationId: 'o-a1b2c3d4e5',
          managementAccountId: '111111111111',
          listAccountsRole: true,
          accounts: [
            { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
            {
              id: PROD,
              name: 'prod',
              email: accountEmail,
              memberRole: true,
              users: [
                {
                  name: 'ci-bot',
                  tags: { owner: OWNER },
                  keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 0 }]
                },
                {
                  // A member account's admin points the owner tag elsewhere.
                  name: 'exfil',
                  tags: { owner: 'mallory@evil.test' },
                  keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 0 }]
                }
              ]
            }
          ],
          ses: { verifiedIdentities: [SENDER] }
        }
      })
      try {
        const run = await runAgainstEmulator(emulator, {
          ...NOTIFY,
          mode: 'audit',
          'owner-email-domains': 'Example.com'
        })
        expect(run.exitCode, run.stdout).toBe(0)
        const recipients = emulator.emails().flatMap(mail => mail.to)
        expect(recipients.sort()).toEqual([OWNER, accountEmail].sort())
        const expected = `Tag "owner" of IAM user exfil in account ${PROD} names mallory@evil.test, on a domain not in owner-email-domains (example.com); that address gets no owner mail.`
        expect(run.plan?.notifications?.warnings).toContain(expected)
        expect(warningLines(run)).toContain(expected)
        // The account's mail still names the user: its administrators see what happened.
        const accountMail = emulator.emails().find(mail => mail.to.includes(accountEmail))
        expect(accountMail?.text).toContain('exfil')
      } finally {
        await emulator.close()
      }
    })
  })
})
