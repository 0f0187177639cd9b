import { describe, expect, it } from 'vitest'
import { assumeRoleHint, permissionHint, type RoleNames } from '../../src/aws/permission-hints.js'

const ROLES: RoleNames = {
  memberRoleName: 'iam-key-rotation-member',
  listAccountsRoleName: 'iam-key-rotation-list-accounts',
  secretsRoleName: 'iam-key-rotation-member',
  stackSetName: 'iam-key-rotation-member',
  managementAccountId: '111111111111'
}
const MEMBER = { roleName: 'iam-key-rotation-member', accountId: '222222222222' }
const LISTING = { roleName: 'iam-key-rotation-list-accounts', accountId: '111111111111' }
const session = (account: string, role: string) =>
  `User: arn:aws:sts::${account}:assumed-role/${role}/iam-key-rotation-1`

describe('permissionHint', () => {
  it.each([
    [
      'an identity policy lacks the action: the template that grants it',
      `${session('222222222222', 'iam-key-rotation-member')} is not authorized to perform: iam:CreateAccessKey on resource: arn:aws:iam::222222222222:user/bob because no identity-based policy allows the iam:CreateAccessKey action`,
      'iam:CreateAccessKey',
      MEMBER,
      /^Fix: the member role "iam-key-rotation-member" in account 222222222222 lacks iam:CreateAccessKey: update it to cfn\/member-role\.yaml version 6/
    ],
    [
      'a service that does not say why (Organizations): the likely template, from the client',
      "You don't have permissions to access this resource.",
      'organizations:ListRoots',
      LISTING,
      /^Fix: most likely the list-accounts role "iam-key-rotation-list-accounts" lacks organizations:ListRoots: deploy cfn\/management-list-accounts-role\.yaml version 6 in the management account 111111111111/
    ],
    [
      'the central role (no role on the client), named from the message',
      `${session('111111111111', 'my-central')} is not authorized to perform: ses:SendEmail on resource: arn:aws:ses:us-east-1:111111111111:identity/example.com because no identity-based policy allows the ses:SendEmail action`,
      'ses:SendEmail',
      undefined,
      /^Fix: the central role "my-central" lacks ses:SendEmail on arn:aws:ses:us-east-1:111111111111:identity\/example\.com: deploy cfn\/central-github-oidc\.yaml version 6/
    ],
    [
      'an explicit deny elsewhere (an SCP): not a template to change',
      `${session('222222222222', 'iam-key-rotation-member')} is not authorized to perform: iam:DeleteAccessKey on resource: arn:aws:iam::222222222222:user/bob with an explicit deny in a service control policy`,
      'iam:DeleteAccessKey',
      MEMBER,
      /^Fix: a Deny in a service control policy blocks iam:DeleteAccessKey for role "iam-key-rotation-member"; this action's templates contain none\. Exempt the role/
    ],
    [
      'the other side of a cross-account call',
      `${session('222222222222', 'iam-key-rotation-member')} is not authorized to perform: secretsmanager:PutSecretValue on resource: arn:aws:secretsmanager:us-east-1:999999999999:secret:x because no resource-based policy allows the secretsmanager:PutSecretValue action`,
      'secretsmanager:PutSecretValue',
      MEMBER,
      /^Fix: no resource-based policy allows secretsmanager:PutSecretValue on arn:aws:secretsmanager:us-east-1:999999999999:secret:x for role "iam-key-rotation-member"/
    ],
    [
      'a KMS key that refuses, in Secrets Manager’s words',
      'Access to KMS is not allowed',
      'secretsmanager:PutSecretValue',
      MEMBER,
      /^Fix: the KMS key of the secret does not let role "iam-key-rotation-member" use it through Secrets Manager: deploy cfn\/central-secrets-kms\.yaml version 6/
    ]
  ] as const)('%s', (_case, message, action, role, expected) => {
    expect(permissionHint({ message, action, role }, ROLES)).toMatch(expected)
  })

  it('leaves AssumeRole to the session hint, which knows more', () => {
    const message = `${session('111111111111', 'central')} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/iam-key-rotation-member`
    expect(
      permissionHint({ message, action: 'sts:AssumeRole', role: undefined }, ROLES)
    ).toBeUndefined()
  })
})

describe('assumeRoleHint', () => {
  it('points at the template of the role that was refused', () => {
    expect(assumeRoleHint('iam-key-rotation-list-accounts', '111111111111', ROLES)).toMatch(
      /^Either the list-accounts role "iam-key-rotation-list-accounts" is missing in the management account \(deploy cfn\/management-list-accounts-role\.yaml version 6/
    )
    expect(assumeRoleHint('iam-key-rotation-member', '222222222222', ROLES)).toMatch(
      /^Either the role "iam-key-rotation-member" is missing in that account \(deploy the member-role StackSet there/
    )
    expect(
      assumeRoleHint('secrets-writer', '999999999999', {
        ...ROLES,
        secretsRoleName: 'secrets-writer'
      })
    ).toMatch(/^Either the secrets role "secrets-writer" is missing in the secrets account/)
    for (const hint of [
      assumeRoleHint('iam-key-rotation-member', '222222222222', ROLES),
      assumeRoleHint('iam-key-rotation-list-accounts', '111111111111', ROLES)
    ]) {
      expect(hint).toContain("or the central role's own policy does not allow sts:AssumeRole on it")
    }
  })

  it('names the audit role and its parameters on the read-only chain', () => {
    const hint = assumeRoleHint('iam-key-rotation-member-audit', '222222222222', {
      ...ROLES,
      memberRoleName: 'iam-key-rotation-member-audit',
      central: 'audit'
    })
    expect(hint).toContain(
      'its trust does not name the audit role or the organization (CentralAuditRoleArn'
    )
    expect(hint).toContain("or the audit role's own policy does not allow sts:AssumeRole on it")
    expect(hint).toContain('AuditMemberRoleName')
  })

  it('names the dry-run role and its parameter in a dry run', () => {
    const hint = assumeRoleHint('iam-key-rotation-member-audit', '222222222222', {
      ...ROLES,
      memberRoleName: 'iam-key-rotation-member-audit',
      central: 'dry-run'
    })
    expect(hint).toContain('(CentralDryRunRoleArn, OrganizationId)')
  })

  it('says how to bring the management account in scope', () => {
    expect(assumeRoleHint('iam-key-rotation-member', '111111111111', ROLES)).toMatch(
      /only when the central stack has IncludeManagementAccount=true .* or set include-management-account: false\.$/
    )
  })
})
