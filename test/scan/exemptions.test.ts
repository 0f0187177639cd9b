import { describe, expect, it } from 'vitest'
import { exemptionOf } from '../../src/scan/account-scan.js'
import { isLifecycleTag, lifecycleTagKey } from '../../src/scan/lifecycle-tags.js'
import { IdFactory } from '../emulator/random.js'

const options = { exemptionGroup: 'IAMKeyRotationExemptionGroup', userPath: '/apps/' }
const user = (arn: string, tags: Record<string, string> = {}, groups: string[] = []) => ({
  arn,
  groups,
  tags: new Map(Object.entries(tags))
})

describe('exemptionOf', () => {
  it.each<[string, ReturnType<typeof user>, string | undefined]>([
    ['a user under the path', user('arn:aws:iam::1:user/apps/bob'), undefined],
    ['a deeper path', user('arn:aws:iam::1:user/apps/team/bob'), undefined],
    ['outside the path', user('arn:aws:iam::1:user/bob'), 'outside-user-path'],
    ['a look-alike path', user('arn:aws:iam::1:user/apps-admin/bob'), 'outside-user-path'],
    [
      'the exemption group wins',
      user('arn:aws:iam::1:user/bob', {}, ['IAMKeyRotationExemptionGroup']),
      'exemption-group'
    ],
    [
      'the protected tag, any case',
      user('arn:aws:iam::1:user/apps/bob', { 'IAM-Key-Rotation:Protected': 'TRUE' }),
      'protected-tag'
    ],
    [
      'a protected tag that is not "true"',
      user('arn:aws:iam::1:user/apps/bob', { 'iam-key-rotation:protected': 'yes' }),
      undefined
    ]
  ])('%s', (_name, entry, expected) => {
    expect(exemptionOf(entry, options)).toBe(expected)
  })

  it('takes every user when the path is "/"', () => {
    expect(exemptionOf(user('arn:aws:iam::1:user/x/y/bob'), { ...options, userPath: '/' })).toBe(
      undefined
    )
  })
})

describe('isLifecycleTag', () => {
  it("names key ids only, not the tool's other tags", () => {
    expect(isLifecycleTag(lifecycleTagKey(new IdFactory(1).accessKeyId()))).toBe(true)
    expect(isLifecycleTag('iam-key-rotation:protected')).toBe(false)
    expect(isLifecycleTag('owner')).toBe(false)
  })
})
