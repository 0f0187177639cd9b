import { describe, expect, it } from 'vitest'
import {
  isMultiRegionKey,
  multiRegionReplicaKeyId,
  replicaKeyMap,
  replicaKeysFor
} from '../../src/secrets/replica-keys.js'

const MRK = 'mrk-0123456789abcdef0123456789abcdef'
const MRK_ARN = `arn:aws:kms:us-east-1:999999999999:key/${MRK}`
const SINGLE_ARN = 'arn:aws:kms:us-east-1:999999999999:key/11111111-2222-3333-4444-555555555555'
const EU_ARN = 'arn:aws:kms:eu-west-1:999999999999:key/66666666-7777-8888-9999-000000000000'

describe('multiRegionReplicaKeyId', () => {
  it.each([
    [MRK_ARN, 'eu-west-1', `arn:aws:kms:eu-west-1:999999999999:key/${MRK}`],
    [MRK_ARN, 'us-east-1', MRK_ARN],
    [MRK, 'eu-west-1', MRK],
    [
      `arn:aws-us-gov:kms:us-gov-west-1:999999999999:key/${MRK}`,
      'us-gov-east-1',
      `arn:aws-us-gov:kms:us-gov-east-1:999999999999:key/${MRK}`
    ],
    [SINGLE_ARN, 'eu-west-1', undefined],
    ['11111111-2222-3333-4444-555555555555', 'eu-west-1', undefined],
    ['alias/mrk-0123456789abcdef0123456789abcdef', 'eu-west-1', undefined],
    [`arn:aws:kms:us-east-1:999999999999:alias/${MRK}`, 'eu-west-1', undefined],
    ['mrk-short', 'eu-west-1', undefined]
  ])('%s in %s → %s', (kmsKeyId, region, expected) => {
    expect(multiRegionReplicaKeyId(kmsKeyId, region)).toBe(expected)
    expect(isMultiRegionKey(kmsKeyId)).toBe(expected !== undefined)
  })
})

describe('replicaKeysFor', () => {
  it('derives each replica of a multi-Region key; a replica-kms-key-ids pair wins for its region', () => {
    const { keys, lacking } = replicaKeysFor(MRK_ARN, ['eu-west-1', 'ap-south-1'], {
      'ap-south-1': 'arn:aws:kms:ap-south-1:999999999999:key/abc'
    })
    expect(lacking).toEqual([])
    expect(keys).toEqual([
      {
        region: 'eu-west-1',
        kmsKeyId: `arn:aws:kms:eu-west-1:999999999999:key/${MRK}`,
        source: 'multi-region-key'
      },
      {
        region: 'ap-south-1',
        kmsKeyId: 'arn:aws:kms:ap-south-1:999999999999:key/abc',
        source: 'replica-kms-key-ids'
      }
    ])
    expect(replicaKeyMap(keys)).toEqual({
      'eu-west-1': `arn:aws:kms:eu-west-1:999999999999:key/${MRK}`,
      'ap-south-1': 'arn:aws:kms:ap-south-1:999999999999:key/abc'
    })
  })

  it('a single-region key or an alias leaves the regions without a pair lacking', () => {
    expect(
      replicaKeysFor(SINGLE_ARN, ['eu-west-1', 'ap-south-1'], { 'eu-west-1': EU_ARN })
    ).toEqual({
      keys: [{ region: 'eu-west-1', kmsKeyId: EU_ARN, source: 'replica-kms-key-ids' }],
      lacking: ['ap-south-1']
    })
    expect(replicaKeysFor('alias/secrets', ['eu-west-1'], {}).lacking).toEqual(['eu-west-1'])
  })

  it('without kms-key-id every replica has the AWS managed key of its region', () => {
    const { keys, lacking } = replicaKeysFor(undefined, ['eu-west-1'], {})
    expect(lacking).toEqual([])
    expect(keys).toEqual([{ region: 'eu-west-1', source: 'aws-managed' }])
    expect(replicaKeyMap(keys)).toEqual({})
  })
})
