import { DeleteAccessKeyCommand } from '@aws-sdk/client-iam'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type World } from '../emulator/index.js'
import { FakeGitHub } from '../issues/fake-github.js'
import {
  ORG,
  planActions,
  runAgainstEmulator,
  type EmulatedRun
} from '../support/emulated-action.js'
import { memberIamClient } from '../support/emulator-clients.js'
import { startOidcTokenServer } from '../support/oidc-token-server.js'
import { warningLines } from '../support/run-action.js'

const PROD = '222222222222'
const TOKEN = 'loopback-github-token-for-tests'

/** ci-bot has two active keys it made itself: one expired, one young. The tool cannot rotate. */
function world(): World {
  return {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: '111111111111',
    listAccountsRole: true,
    accounts: [
      { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
      {
        id: PROD,
        name: 'prod',
        email: 'prod@example.com',
        memberRole: true,
        users: [
          {
            name: 'ci-bot',
            tags: { owner: 'team@example.com' },
            keys: [
              { status: 'Active', ageDays: 120, lastUsedDaysAgo: 1 },
              { status: 'Active', ageDays: 20, lastUsedDaysAgo: 0 }
            ]
          }
        ]
      }
    ]
  }
}

function issueInputs(): Record<string, string> {
  return { ...ORG, mode: 'enforce', 'open-issues': 'true', 'github-token': TOKEN }
}

// The scenarios are independent (each has its own emulator and GitHub) and spend their time in
// child processes: they run side by side. The steps within a scenario run in order.
describe.concurrent('GitHub issues through dist/index.js', () => {
  describe('a blocked rotation and its GitHub issue', () => {
    let emulator: Emulator
    let github: FakeGitHub
    const run = async (): Promise<EmulatedRun> => {
      const result = await runAgainstEmulator(emulator, issueInputs(), {
        env: { GITHUB_API_URL: github.baseUrl, GITHUB_REPOSITORY: `${github.owner}/${github.repo}` }
      })
      expect(result.exitCode, result.stdout).toBe(0)
      return result
    }

    beforeAll(async () => {
      emulator = await startEmulator({ world: world() })
      github = new FakeGitHub()
      await github.start()
    })
    afterAll(async () => {
      await github.stop()
      await emulator.close()
    })

    const runs: EmulatedRun[] = []
    it.sequential.each([1, 2, 3])(
      'run %i on consecutive days: exactly one issue, opened once',
      async day => {
        if (day > 1) emulator.advanceDays(1)
        const result = await run()
        runs.push(result)
        expect(planActions(result.plan!)).toEqual([
          expect.objectContaining({ user: 'ci-bot', type: 'BLOCKED', result: 'planned' })
        ])
        expect(result.outputs['has-conflicts']).toBe('true')
        expect(github.issues).toHaveLength(1)
        const [issue] = github.issues
        expect(issue).toMatchObject({
          number: 1,
          state: 'open',
          labels: ['iam-key-rotation'],
          title: `IAM key rotation blocked: ci-bot in ${PROD} (prod)`
        })
        expect(issue?.body).toContain(`<!-- iam-key-rotation:blocked:${PROD}:ci-bot -->`)
        // Ages and last-use dates move daily; the evidence does not: no comment, no edit.
        expect(issue?.comments).toEqual([])
        expect(result.plan?.issues).toMatchObject(
          day === 1
            ? { opened: [{ number: 1 }], updated: [], closed: [], unchanged: 0 }
            : { opened: [], updated: [], closed: [], unchanged: 1 }
        )
      }
    )

    it.sequential('wrote to GitHub only on the first run', () => {
      expect(github.writes().map(w => `${w.method} ${w.path}`)).toEqual([
        'POST /repos/acme/infra/labels',
        'POST /repos/acme/infra/issues'
      ])
    })

    it.sequential(
      'closes the issue on the run after the conflict is resolved, and rotates',
      async () => {
        // The owner deletes the young key they no longer need.
        const account = emulator.state(PROD).accounts.find(a => a.id === PROD)
        const keys = account?.users.find(u => u.name === 'ci-bot')?.keys ?? []
        const young = [...keys].sort((a, b) => b.createDate.localeCompare(a.createDate))[0]
        const iam = await memberIamClient(emulator, PROD)
        try {
          await iam.send(new DeleteAccessKeyCommand({ UserName: 'ci-bot', AccessKeyId: young?.id }))
        } finally {
          iam.destroy()
        }
        emulator.advanceDays(1)

        const result = await run()
        expect(planActions(result.plan!)).toEqual([
          expect.objectContaining({ user: 'ci-bot', type: 'ROTATE', result: 'done' })
        ])
        expect(result.outputs['has-conflicts']).toBe('false')
        expect(github.issues).toHaveLength(1)
        expect(github.issue(1)).toMatchObject({ state: 'closed', stateReason: 'completed' })
        expect(github.issue(1).comments).toEqual([expect.stringMatching(/^Resolved: .*Closing\.$/)])
        expect(result.plan?.issues).toMatchObject({ opened: [], closed: [{ number: 1 }] })

        // And stays closed: the next run has nothing to say on GitHub.
        emulator.advanceDays(1)
        const writes = github.writes().length
        await run()
        expect(github.writes()).toHaveLength(writes)
        expect(github.issues).toHaveLength(1)
      }
    )
  })

  describe('a token that may not write issues', () => {
    /** A fresh organization and GitHub for one test. */
    async function withFixture(
      body: (f: { emulator: Emulator; github: FakeGitHub }) => Promise<void>
    ) {
      const github = new FakeGitHub()
      await github.start()
      const emulator = await startEmulator({ world: world() })
      try {
        await body({ emulator, github })
      } finally {
        await github.stop()
        await emulator.close()
      }
    }
    const runWith = (emulator: Emulator, github: FakeGitHub) =>
      runAgainstEmulator(emulator, issueInputs(), {
        env: { GITHUB_API_URL: github.baseUrl, GITHUB_REPOSITORY: `${github.owner}/${github.repo}` }
      })

    it('warns how to grant it and still succeeds when writes are refused', () =>
      withFixture(async ({ emulator, github }) => {
        // As GitHub answers a GITHUB_TOKEN without `issues: write`.
        const refused = { status: 403, message: 'Resource not accessible by integration' }
        github.faults.push(
          { method: 'POST', path: /\/labels$/, ...refused },
          { method: 'POST', path: /\/issues$/, ...refused }
        )
        const run = await runWith(emulator, github)
        expect(run.exitCode, run.stdout).toBe(0)
        expect(github.issues).toEqual([])
        const warnings = warningLines(run).join('\n')
        expect(warnings).toMatch(/may not write issues in acme\/infra/)
        expect(warnings).toMatch(/permissions: issues: write/)
        expect(run.plan?.issues?.warnings.join('\n')).toMatch(/issues: write/)
        expect(run.summary).toMatch(/issues: write/)
      }))

    it('warns and still succeeds when even reading issues is refused', () =>
      withFixture(async ({ emulator, github }) => {
        github.faults.push({
          method: 'GET',
          path: /\/issues$/,
          status: 403,
          message: 'Resource not accessible by integration'
        })
        const run = await runWith(emulator, github)
        expect(run.exitCode, run.stdout).toBe(0)
        expect(warningLines(run).join('\n')).toMatch(/Cannot read the issues of acme\/infra/)
        expect(github.writes()).toEqual([])
      }))
  })

  describe('an account that cannot be processed', () => {
    it('gets one issue across runs, closed once the account works again', async () => {
      const emulator = await startEmulator({
        world: { ...world(), faults: { assumeRoleDenied: [PROD] } }
      })
      const github = new FakeGitHub()
      await github.start()
      // Signed in with OIDC, as in a real workflow: each run's session is named after its run.
      const oidc = await startOidcTokenServer()
      try {
        let runId = 1000
        const runIt = () =>
          runAgainstEmulator(
            emulator,
            {
              ...issueInputs(),
              'role-to-assume': `arn:aws:iam::111111111111:role/iam-key-rotation-central`
            },
            {
              env: {
                ...oidc.env,
                GITHUB_RUN_ID: String(++runId),
                GITHUB_API_URL: github.baseUrl,
                GITHUB_REPOSITORY: `${github.owner}/${github.repo}`
              }
            }
          )
        for (let day = 0; day < 2; day++) {
          if (day > 0) emulator.advanceDays(1)
          const run = await runIt()
          expect(run.outputs['failed-accounts'], run.stdout).toBe(PROD)
          expect(run.plan?.accounts.find(a => a.accountId === PROD)?.error).toContain(
            `assumed-role/iam-key-rotation-central/iam-key-rotation-${runId} `
          )
          expect(github.issues).toHaveLength(1)
          expect(github.issue(1)).toMatchObject({
            state: 'open',
            title: `IAM key rotation: account ${PROD} (prod) could not be processed`
          })
          // The error differs only in what changes every run (session name, request id, time):
          // no comment.
          expect(github.issue(1).comments).toEqual([])
        }

        emulator.setFaults({})
        emulator.advanceDays(1)
        const run = await runIt()
        expect(run.outputs['failed-accounts']).toBe('')
        expect(github.issue(1).state).toBe('closed')
        // The blocked rotation the account was hiding gets its own issue now.
        expect(github.issues.map(i => [i.number, i.state, i.title])).toEqual([
          [1, 'closed', `IAM key rotation: account ${PROD} (prod) could not be processed`],
          [2, 'open', `IAM key rotation blocked: ci-bot in ${PROD} (prod)`]
        ])
      } finally {
        await oidc.close()
        await github.stop()
        await emulator.close()
      }
    })
  })
})
