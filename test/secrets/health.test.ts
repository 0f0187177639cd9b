import { describe, expect, it } from 'vitest'
import {
  SECRET_MARKER_TAG,
  checkSecret,
  readOnlyByUserPolicy,
  sameKmsKey,
  type SecretExpectation,
  type SecretSnapshot
} from '../../src/secrets/health.js'
import { markerValue, secretMarkerMessage } from '../../src/state/signing.js'
import { localStateKey } from '../support/state-key.js'

// Is the secret the tool's, and as the tool made it? Each way a member account's administrator
// can get at a key through the secret, and what the check makes of it.

const key = localStateKey()
const USER_ARN = 'arn:aws:iam::222222222222:user/ci-bot'
const NAME = 'iam-key-rotation/222222222222/ci-bot'
const CREATED = new Date('2026-09-01T10:00:00.000Z')
const KMS = 'arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab'

const expected: SecretExpectation = {
  accountId: '222222222222',
  userName: 'ci-bot',
  userArn: USER_ARN,
  kmsKeyId: KMS,
  replicaRegions: [],
  replicaKmsKeyIds: {},
  readGrantAttached: true,
  signedStateSince: new Date('2026-06-01T00:00:00.000Z')
}

async function marker(createdAt = CREATED, name = NAME): Promise<string> {
  const at = createdAt.toISOString()
  const signature = await key.sign(secretMarkerMessage('222222222222', 'ci-bot', name, at))
  return markerValue(at, signature)
}

async function snapshot(
  overrides: Partial<SecretSnapshot> = {},
  without: readonly ('resourcePolicy' | 'kmsKeyId')[] = []
): Promise<SecretSnapshot> {
  const full: SecretSnapshot = {
    name: NAME,
    arn: `arn:aws:secretsmanager:us-east-1:222222222222:secret:${NAME}-AbC123`,
    createdAt: CREATED,
    kmsKeyId: KMS,
    tags: new Map([[SECRET_MARKER_TAG, await marker()]]),
    resourcePolicy: JSON.stringify(readOnlyByUserPolicy(USER_ARN)),
    replicas: [],
    ...overrides
  }
  const copy: Record<string, unknown> = { ...full }
  for (const field of without) delete copy[field]
  return copy as unknown as SecretSnapshot
}

function problemsOf(check: ReturnType<typeof checkSecret>): string[] {
  if (!check.owned) throw new Error(`not owned: ${check.reason}`)
  return check.problems.map(problem => problem.repair.kind)
}

describe('checkSecret: whose secret it is', () => {
  it("is the tool's when its marker verifies and names the secret's creation", async () => {
    expect(checkSecret(await snapshot(), expected, key)).toEqual({ owned: true, problems: [] })
  })

  it("is not the tool's without a marker, when made since signed state began", async () => {
    const check = checkSecret(await snapshot({ tags: new Map() }), expected, key)
    expect(check).toEqual({
      owned: false,
      reason: expect.stringMatching(/has no marker/) as unknown
    })
  })

  it('adopts an unmarked secret made before signed state began (0.1.0), and marks it', async () => {
    const old = await snapshot({ tags: new Map(), createdAt: new Date('2026-03-01T00:00:00Z') })
    expect(problemsOf(checkSecret(old, expected, key))).toEqual(['marker'])
  })

  it("is not the tool's with a forged or foreign marker", async () => {
    const forged = await snapshot({
      tags: new Map([[SECRET_MARKER_TAG, `${CREATED.toISOString()} v2 test-state-key AAAA`]])
    })
    expect(checkSecret(forged, expected, key)).toMatchObject({
      owned: false,
      reason: expect.stringMatching(/failed verification/) as unknown
    })
    const otherUser = await snapshot({
      tags: new Map([
        [SECRET_MARKER_TAG, await marker(CREATED, 'iam-key-rotation/222222222222/admin')]
      ])
    })
    expect(checkSecret(otherUser, expected, key)).toMatchObject({ owned: false })
    const malformed = await snapshot({ tags: new Map([[SECRET_MARKER_TAG, 'nonsense']]) })
    expect(checkSecret(malformed, expected, key)).toMatchObject({
      owned: false,
      reason: expect.stringMatching(/malformed/) as unknown
    })
  })

  it("is not the tool's when a valid marker was copied onto a secret made later under the name", async () => {
    const remade = await snapshot({ createdAt: new Date(CREATED.getTime() + 6 * 60_000) })
    expect(checkSecret(remade, expected, key)).toMatchObject({
      owned: false,
      reason: expect.stringMatching(/made again under the same name/) as unknown
    })
    // The tool's clock reading at creation: within 5 minutes is the same secret.
    const same = await snapshot({ createdAt: new Date(CREATED.getTime() + 4 * 60_000) })
    expect(checkSecret(same, expected, key).owned).toBe(true)
  })
})

describe('checkSecret: drift from what the tool made', () => {
  it('finds a missing or different resource policy', async () => {
    const none = await snapshot({}, ['resourcePolicy'])
    expect(problemsOf(checkSecret(none, expected, key))).toEqual(['resource-policy'])
    const open = readOnlyByUserPolicy(USER_ARN)
    open.Statement[0]!.Principal = { AWS: 'arn:aws:iam::222222222222:root' }
    expect(
      problemsOf(
        checkSecret(await snapshot({ resourcePolicy: JSON.stringify(open) }), expected, key)
      )
    ).toEqual(['resource-policy'])
  })

  it('reads the same policy whatever its layout', async () => {
    const policy = readOnlyByUserPolicy(USER_ARN)
    const reordered = {
      Statement: policy.Statement.map(statement => ({
        ...statement,
        Action: [statement.Action].flat().reverse()
      })).reverse(),
      Version: policy.Version
    }
    const text = JSON.stringify(reordered, null, 4)
    expect(
      problemsOf(checkSecret(await snapshot({ resourcePolicy: text }), expected, key))
    ).toEqual([])
  })

  it('finds a foreign KMS key, and knows a key id, its ARN and an alias ARN apart from another key', async () => {
    expect(
      problemsOf(
        checkSecret(
          await snapshot({ kmsKeyId: 'arn:aws:kms:us-east-1:222222222222:key/attacker' }),
          expected,
          key
        )
      )
    ).toEqual(['kms-key'])
    expect(problemsOf(checkSecret(await snapshot({}, ['kmsKeyId']), expected, key))).toEqual([
      'kms-key'
    ])
    const home = { account: '999999999999', region: 'us-east-1' }
    expect(sameKmsKey(KMS, '1234abcd-12ab-34cd-56ef-1234567890ab', home)).toBe(true)
    expect(
      sameKmsKey('alias/rotation', 'arn:aws:kms:us-east-1:999999999999:alias/rotation', home)
    ).toBe(true)
    expect(sameKmsKey(undefined, undefined, home)).toBe(true)
    expect(sameKmsKey(undefined, 'alias/aws/secretsmanager', home)).toBe(true)
    expect(sameKmsKey(KMS, undefined, home)).toBe(false)
    // The same alias in another account, or a bare name outside the secret's account: another key.
    expect(
      sameKmsKey(
        'arn:aws:kms:us-east-1:111111111111:alias/rot',
        'arn:aws:kms:us-east-1:222222222222:alias/rot',
        home
      )
    ).toBe(false)
    expect(sameKmsKey('alias/rot', 'arn:aws:kms:us-east-1:222222222222:alias/rot', home)).toBe(
      false
    )
  })

  it('finds missing, unexpected and wrongly keyed replicas, with the calls that put them right', async () => {
    const check = checkSecret(
      await snapshot({
        replicas: [
          { region: 'eu-west-1', kmsKeyId: KMS, status: 'InSync' },
          { region: 'ap-south-1', kmsKeyId: KMS, status: 'InSync' },
          {
            region: 'us-west-2',
            kmsKeyId: 'arn:aws:kms:us-west-2:222222222222:key/other',
            status: 'InSync'
          }
        ]
      }),
      {
        ...expected,
        replicaRegions: ['eu-west-1', 'us-west-2', 'eu-central-1'],
        replicaKmsKeyIds: { 'eu-west-1': KMS, 'us-west-2': KMS, 'eu-central-1': KMS }
      },
      key
    )
    if (!check.owned) throw new Error('not owned')
    expect(check.problems.map(problem => problem.repair)).toEqual([
      { kind: 'replicas', remove: ['ap-south-1', 'us-west-2'], add: ['us-west-2', 'eu-central-1'] }
    ])
  })

  it('finds a secret scheduled for deletion first: nothing else can be put right before it is restored', async () => {
    const check = checkSecret(
      await snapshot({ deletedAt: CREATED }, ['resourcePolicy']),
      expected,
      key
    )
    expect(problemsOf(check)).toEqual(['restore', 'resource-policy'])
  })

  it('finds a user without the read grant', async () => {
    expect(
      problemsOf(checkSecret(await snapshot(), { ...expected, readGrantAttached: false }, key))
    ).toEqual(['read-grant'])
  })
})
