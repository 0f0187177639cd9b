import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { startOidcTokenServer, type OidcTokenServer } from '../support/oidc-token-server.js'
import { ORG } from '../support/emulated-action.js'
import { runAction } from '../support/run-action.js'

const CENTRAL_ROLE = 'arn:aws:iam::111111111111:role/iam-key-rotation-central'

describe('role-to-assume with the GitHub OIDC token', () => {
  let emulator: Emulator
  let tokenServer: OidcTokenServer

  beforeAll(async () => {
    emulator = await startEmulator({
      world: {
        organizationId: 'o-a1b2c3d4e5',
        managementAccountId: '111111111111',
        accounts: [
          {
            id: '222222222222',
            name: 'prod',
            email: 'prod@example.com',
            memberRole: true,
            users: [
              { name: 'ci-bot', keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 1 }] }
            ]
          }
        ]
      }
    })
    tokenServer = await startOidcTokenServer()
  })
  afterAll(async () => {
    await emulator.close()
    await tokenServer.close()
  })

  it('exchanges the job token for the central role and scans with it', async () => {
    const run = await runAction({
      inputs: {
        ...ORG,
        'role-to-assume': CENTRAL_ROLE,
        notify: 'false',
        'open-issues': 'false',
        'deploy-stacks': 'off',
        'exclude-accounts': '111111111111'
      },
      env: {
        AWS_ENDPOINT_URL: emulator.url,
        ...tokenServer.env
      }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(tokenServer.audiences).toEqual(['sts.amazonaws.com'])
    expect(run.stdout).toContain(
      'Signed in as arn:aws:sts::111111111111:assumed-role/iam-key-rotation-central/'
    )
    expect(run.outputs.rotated).toBe('1')
    const counts = emulator.requestCounts().byOperation
    expect(counts['sts:AssumeRoleWithWebIdentity']).toBe(1)
  })

  it('says what to fix when the job may not request a token', async () => {
    const run = await runAction({
      inputs: {
        ...ORG,
        'role-to-assume': CENTRAL_ROLE,
        notify: 'false',
        'open-issues': 'false',
        'deploy-stacks': 'off'
      },
      env: { AWS_ENDPOINT_URL: emulator.url }
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/::error::.*id-token: write/)
  })
})
