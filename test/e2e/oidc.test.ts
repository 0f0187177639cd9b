import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { runAction } from '../support/run-action.js'

const CENTRAL_ROLE = 'arn:aws:iam::111111111111:role/iam-key-rotation-central'
/** An unsigned JWT-shaped token: the emulator does not verify it, only AWS would. */
const TOKEN = ['header', 'payload', 'signature']
  .map(p => Buffer.from(p).toString('base64url'))
  .join('.')

describe('role-to-assume with the GitHub OIDC token', () => {
  let emulator: Emulator
  let tokenServer: Server
  let tokenUrl: string
  const audiences: string[] = []

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
    // What the runner serves at ACTIONS_ID_TOKEN_REQUEST_URL.
    tokenServer = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://runner')
      audiences.push(url.searchParams.get('audience') ?? '')
      const authorized = request.headers.authorization === 'Bearer runner-request-token'
      response.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' })
      response.end(JSON.stringify(authorized ? { value: TOKEN } : { message: 'bad token' }))
    })
    await new Promise<void>(resolve => tokenServer.listen(0, '127.0.0.1', resolve))
    tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token?api-version=2.0`
  })
  afterAll(async () => {
    await emulator.close()
    await new Promise<void>(resolve => tokenServer.close(() => resolve()))
  })

  it('exchanges the job token for the central role and scans with it', async () => {
    const run = await runAction({
      inputs: {
        'organization-id': 'o-a1b2c3d4e5',
        'management-account-id': '111111111111',
        'role-to-assume': CENTRAL_ROLE,
        notify: 'false',
        'open-issues': 'false',
        'deploy-stacks': 'off',
        'exclude-accounts': '111111111111'
      },
      env: {
        AWS_ENDPOINT_URL: emulator.url,
        ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token'
      }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(audiences).toEqual(['sts.amazonaws.com'])
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
        'organization-id': 'o-a1b2c3d4e5',
        'management-account-id': '111111111111',
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
