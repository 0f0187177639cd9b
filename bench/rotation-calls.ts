/**
 * The calls of a user's first rotation: dist/index.js in enforce mode against the emulator, an
 * organization of one member account whose IAM users' only keys have just expired (one user by
 * default). Then the next day's run: the calls of an account whose every user has a secret.
 * Prints the member account's calls before the rotation (the scan, and the live re-read of the
 * keys), and every call of the rotation itself, from signing its intent record on.
 *
 *   node --import tsx bench/rotation-calls.ts [--users 1]
 */
import { parseArgs } from 'node:util'
import { startEmulator, type RequestLogEntry } from '../test/emulator/index.js'
import { runAgainstEmulator } from '../test/support/emulated-action.js'

const MEMBER = '222222222222'
const { values } = parseArgs({ options: { users: { type: 'string', default: '1' } } })
const userCount = Number(values.users)
const ORG = { 'organization-id': 'o-a1b2c3d4e5', 'management-account-id': '111111111111' }

const emulator = await startEmulator({
  world: {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: '111111111111',
    listAccountsRole: true,
    accounts: [
      { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
      {
        id: MEMBER,
        name: 'prod',
        email: 'prod@example.com',
        memberRole: true,
        users: Array.from({ length: userCount }, (_, i) => ({
          name: `app-${i}`,
          keys: [{ ageDays: 90, lastUsedDaysAgo: 0 }]
        }))
      }
    ]
  }
})
try {
  const run = await runAgainstEmulator(emulator, { ...ORG, mode: 'enforce' })
  const rotate = run.plan?.accounts
    .flatMap(account => account.users)
    .flatMap(user => user.actions)
    .find(action => action.type === 'ROTATE')
  if (rotate?.result !== 'done') throw new Error(`the rotation did not happen:\n${run.stdout}`)

  const calls = emulator.requests().filter(call => call.operation !== 'GetCallerIdentity')
  const line = (label: string, entries: RequestLogEntry[]) => {
    const counts = new Map<string, number>()
    for (const call of entries) {
      const name = `${call.service}:${call.operation}${call.errorCode ? ` (${call.errorCode})` : ''}`
      counts.set(name, (counts.get(name) ?? 0) + 1)
    }
    const listed = [...counts].map(([name, count]) => (count > 1 ? `${name} ×${count}` : name))
    console.log(`${label}: ${entries.length} calls: ${listed.join(', ')}`)
  }
  // The rotation starts by signing its intent record: the run's first kms:Sign.
  const start = calls.findIndex(call => call.service === 'kms' && call.operation === 'Sign')
  const scan = calls.slice(0, start).filter(call => call.account === MEMBER)
  const rotation = calls.slice(start)
  line('member account, before the rotations', scan)
  line(`${userCount} rotation(s) (member account and KMS signatures)`, rotation)

  emulator.advanceDays(1)
  const before = emulator.requests().length
  const next = await runAgainstEmulator(emulator, { ...ORG, mode: 'audit' })
  if (next.exitCode !== 0) throw new Error(`the next day's audit failed:\n${next.stdout}`)
  const nextCalls = emulator.requests().slice(before)
  line(
    `the next day, member account (${userCount} managed secrets)`,
    nextCalls.filter(call => call.account === MEMBER)
  )
} finally {
  await emulator.close()
}
