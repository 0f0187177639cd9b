import { describe, expect, it } from 'vitest'
import { parseCredentialReport } from '../../src/scan/credential-report.js'

const HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,' +
  'access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,' +
  'access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,' +
  'cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated'

const row = (cells: string[]) => cells.join(',')

describe('parseCredentialReport', () => {
  const csv = [
    HEADER,
    row([
      '<root_account>',
      'arn:aws:iam::222222222222:root',
      '2020-01-01T00:00:00+00:00',
      'not_supported',
      'N/A',
      'not_supported',
      'not_supported',
      'true',
      'false',
      'N/A',
      'N/A',
      'N/A',
      'N/A',
      'false',
      'N/A',
      'N/A',
      'N/A',
      'N/A',
      'false',
      'N/A',
      'false',
      'N/A'
    ]),
    row([
      'ci-bot',
      'arn:aws:iam::222222222222:user/ci-bot',
      '2024-01-01T00:00:00+00:00',
      'false',
      'N/A',
      'N/A',
      'N/A',
      'false',
      'true',
      '2026-08-01T10:00:00+00:00',
      '2026-11-28T09:00:00+00:00',
      'us-east-1',
      's3',
      'false',
      '2026-05-01T10:00:00+00:00',
      'N/A',
      'N/A',
      'N/A',
      'false',
      'N/A',
      'false',
      'N/A'
    ]),
    row([
      'nokeys',
      'arn:aws:iam::222222222222:user/nokeys',
      '2024-01-01T00:00:00+00:00',
      'true',
      'no_information',
      'N/A',
      'N/A',
      'false',
      'false',
      'N/A',
      'N/A',
      'N/A',
      'N/A',
      'false',
      'N/A',
      'N/A',
      'N/A',
      'N/A',
      'false',
      'N/A',
      'false',
      'N/A'
    ])
  ].join('\n')

  it('skips the root account and reads each key slot', () => {
    const users = parseCredentialReport(csv)
    expect(users.map(u => u.userName)).toEqual(['ci-bot', 'nokeys'])
    expect(users[0]?.keys).toEqual([
      {
        slot: 1,
        status: 'Active',
        createdAt: new Date('2026-08-01T10:00:00Z'),
        lastUsed: {
          kind: 'date',
          at: new Date('2026-11-28T09:00:00Z'),
          service: 's3',
          region: 'us-east-1'
        }
      },
      {
        slot: 2,
        status: 'Inactive',
        createdAt: new Date('2026-05-01T10:00:00Z'),
        lastUsed: { kind: 'never' }
      }
    ])
    expect(users[1]?.keys).toEqual([])
  })
})
