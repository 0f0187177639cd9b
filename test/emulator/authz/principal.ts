import type { Caller } from '../service.js'
import type { Account, EmulatorState, IamRole, IamUser } from '../state.js'
import type { NamedPolicy } from './evaluate.js'

/** An identity policy, and the template resource it came from (`origin`), if a stack created it. */
export type IdentityPolicy = NamedPolicy

/** Who is asking, as policy evaluation sees them: their policies and their context keys. */
export interface Principal {
  readonly arn: string
  readonly accountId: string
  readonly identityPolicies: readonly IdentityPolicy[]
  readonly permissionsBoundary: NamedPolicy | undefined
  readonly context: Readonly<Record<string, string | string[]>>
}

/** Root of an account: every action, bounded only by resource policies' explicit denies. */
const ROOT_POLICY: NamedPolicy = {
  name: 'account-root',
  document: JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }]
  })
}

function managedPolicy(account: Account, arn: string): IdentityPolicy | undefined {
  const policy = account.iam.policies.get(arn)
  return policy && { name: policy.arn, document: policy.document, origin: policy.origin }
}

/** A boundary with no Allow: whatever it bounds is implicitly denied. */
const ALLOWS_NOTHING = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', NotAction: '*', Resource: '*' }]
})

/**
 * The permissions boundary policy an entity's boundary ARN names. One the emulator cannot read
 * (an AWS managed policy, whose text it does not have, or a deleted policy) allows nothing, so
 * that an unknown boundary never widens what its entity may do.
 */
export function boundaryPolicy(account: Account, arn: string | undefined): NamedPolicy | undefined {
  if (arn === undefined) return undefined
  return managedPolicy(account, arn) ?? { name: arn, document: ALLOWS_NOTHING }
}

/** A role's identity policies: inline, then attached managed ones. */
export function rolePolicies(account: Account, role: IamRole): IdentityPolicy[] {
  return [
    ...[...role.inlinePolicies].map(([name, document]) => ({
      name: `${role.name}/${name}`,
      document,
      origin: role.origin
    })),
    ...role.attachedPolicyArns.flatMap(arn => managedPolicy(account, arn) ?? [])
  ]
}

/**
 * A user's identity policies: inline, then attached managed ones. Groups carry no policies in
 * the emulator, so membership adds none.
 */
export function userPolicies(account: Account, user: IamUser): IdentityPolicy[] {
  return [
    ...[...user.inlinePolicies].map(([name, document]) => ({
      name: `${user.name}/${name}`,
      document
    })),
    ...user.attachedPolicyArns.flatMap(arn => managedPolicy(account, arn) ?? [])
  ]
}

function tagContext(prefix: string, tags: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries([...tags].map(([key, value]) => [`${prefix}/${key}`, value]))
}

/** The organization an account belongs to: every account the emulator holds is a member. */
export function orgOf(state: EmulatorState, accountId: string): string | undefined {
  return state.accounts.has(accountId) ? state.organization.id : undefined
}

export function principalOf(state: EmulatorState, caller: Caller): Principal | undefined {
  if (caller.kind === 'anonymous') return undefined
  const account = state.accounts.get(caller.accountId)
  if (!account) return undefined
  const orgId = orgOf(state, account.id)
  const common = {
    'aws:PrincipalAccount': account.id,
    ...(orgId ? { 'aws:PrincipalOrgID': orgId } : {})
  }
  switch (caller.kind) {
    case 'root':
      return {
        arn: caller.arn,
        accountId: account.id,
        identityPolicies: [ROOT_POLICY],
        permissionsBoundary: undefined,
        context: { ...common, 'aws:PrincipalArn': caller.arn, 'aws:PrincipalType': 'Account' }
      }
    case 'session': {
      const role = account.iam.roles.get(caller.roleName)
      return {
        arn: caller.arn,
        accountId: account.id,
        // A deleted role's sessions keep their credentials but lose every permission.
        identityPolicies: role ? rolePolicies(account, role) : [],
        permissionsBoundary: boundaryPolicy(account, role?.permissionsBoundary),
        context: {
          ...common,
          'aws:PrincipalArn': caller.roleArn,
          'aws:PrincipalType': 'AssumedRole',
          'aws:userid': caller.userId,
          ...(role ? tagContext('aws:PrincipalTag', role.tags) : {})
        }
      }
    }
    case 'user': {
      const user = account.iam.users.get(caller.userName)
      return {
        arn: caller.arn,
        accountId: account.id,
        identityPolicies: user ? userPolicies(account, user) : [],
        permissionsBoundary: boundaryPolicy(account, user?.permissionsBoundary),
        context: {
          ...common,
          'aws:PrincipalArn': caller.arn,
          'aws:PrincipalType': 'User',
          'aws:username': caller.userName,
          'aws:userid': caller.userId,
          ...(user ? tagContext('aws:PrincipalTag', user.tags) : {})
        }
      }
    }
  }
}
