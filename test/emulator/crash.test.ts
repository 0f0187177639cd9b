import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ORG, runAgainstEmulator } from '../support/emulated-action.js'
import { startEmulator, type Emulator, type World } from './index.js'

const PROD = '222222222222'

const world: World = {
  organizationId: ORG['organization-id'],
  managementAccountId: ORG['management-account-id'],
  listAccountsRole: true,
  accounts: [
    { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
    {
      id: PROD,
      name: 'prod',
      email: 'prod@example.com',
      memberRole: true,
      users: [{ name: 'app', keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 1 }] }]
    }
  ]
}

describe('killing the action at a crash point', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world })
  })
  afterAll(() => emulator.close())

  it('leaves the write it had made, and the run helper reports the kill', async () => {
    const crashed = emulator.crashAfter({
      service: 'iam',
      operation: 'CreateAccessKey',
      account: PROD
    })
    const run = await runAgainstEmulator(
      emulator,
      { ...ORG, mode: 'enforce' },
      { killWhen: crashed }
    )
    expect(run, run.stdout).toMatchObject({ killed: true, signal: 'SIGKILL', exitCode: 137 })
    const app = emulator.state(PROD).accounts[0]?.users.find(user => user.name === 'app')
    expect(app?.keys).toHaveLength(2)
    // Killed right there: nothing more happened in that account (others may have had calls
    // in flight).
    const requests = emulator.requests()
    const held = requests.findIndex(entry => entry.held)
    expect(requests[held]).toMatchObject({ account: PROD, operation: 'CreateAccessKey' })
    expect(requests.slice(held + 1).filter(entry => entry.account === PROD)).toEqual([])
    expect(run.outputs).toEqual({})
  })

  it('does not kill a run whose crash point never fires', async () => {
    emulator.loadWorld(world)
    const never = emulator.crashAfter({ operation: 'DeleteAccessKey' })
    const run = await runAgainstEmulator(emulator, ORG, { killWhen: never })
    expect(run, run.stdout).toMatchObject({ killed: false, signal: null, exitCode: 0 })
    emulator.loadWorld(world)
    await expect(never).rejects.toThrow('the world was reloaded')
  })
})
