import { DAY_MS } from './clock.js'
import { secretArn } from './services/secretsmanager.js'
import type { AccessKey, Account, EmulatorState, IamUser, Secret } from './state.js'

/**
 * A plain-JSON picture of the state, for tests and GET /_emulator/state. It includes secret
 * values (the emulator's own fake keys) so tests can check what was stored.
 */

export interface StateSnapshot {
  now: string
  organization: { id: string; managementAccountId: string; rootId: string }
  central: { accountId: string; roleName: string; roleArn: string }
  accounts: AccountSnapshot[]
}

export interface AccountSnapshot {
  id: string
  name: string
  email: string
  status: string
  parentId: string
  users: UserSnapshot[]
  roles: RoleSnapshot[]
  groups: { name: string; members: string[] }[]
  policies: { name: string; arn: string }[]
  secrets: SecretSnapshot[]
  /** KMS keys (never their key material) and the aliases that name them. */
  kmsKeys: KmsKeySnapshot[]
  stackSets: StackSetSnapshot[]
  stacks: {
    region: string
    name: string
    status: string
    parameters: Record<string, string>
    outputs: Record<string, string>
  }[]
}

export interface UserSnapshot {
  name: string
  arn: string
  path: string
  tags: Record<string, string>
  groups: string[]
  keys: AccessKeySnapshot[]
  inlinePolicies: Record<string, string>
  attachedPolicies: string[]
  /** ARN of the user's permissions boundary policy. */
  permissionsBoundary: string | null
}

export interface AccessKeySnapshot {
  id: string
  status: 'Active' | 'Inactive'
  createDate: string
  /** Whole days since creation, on the emulator clock. */
  ageDays: number
  lastUsed: { date: string; service: string; region: string } | null
}

export interface RoleSnapshot {
  name: string
  arn: string
  trustedPrincipals: string[]
  webIdentity: boolean
  managedBy: string | null
}

export interface SecretSnapshot {
  region: string
  name: string
  arn: string
  kmsKeyId: string | null
  tags: Record<string, string>
  resourcePolicy: string | null
  deleted: boolean
  replicas: { region: string; status: string; kmsKeyId?: string | undefined }[]
  versions: { id: string; stages: string[]; createdDate: string; secretString: string | null }[]
}

export interface KmsKeySnapshot {
  region: string
  id: string
  arn: string
  keySpec: string
  keyUsage: string
  enabled: boolean
  aliases: string[]
  creationDate: string
}

export interface StackSetSnapshot {
  region: string
  name: string
  permissionModel: string
  parameters: Record<string, string>
  organizationalUnitIds: string[]
  instances: { account: string; region: string; status: string; detailedStatus: string }[]
}

function keySnapshot(key: AccessKey, now: Date): AccessKeySnapshot {
  return {
    id: key.id,
    status: key.status,
    createDate: key.createDate.toISOString(),
    ageDays: Math.floor((now.getTime() - key.createDate.getTime()) / DAY_MS),
    lastUsed: key.lastUsed
      ? {
          date: key.lastUsed.date.toISOString(),
          service: key.lastUsed.service,
          region: key.lastUsed.region
        }
      : null
  }
}

function userSnapshot(user: IamUser, now: Date): UserSnapshot {
  return {
    name: user.name,
    arn: user.arn,
    path: user.path,
    tags: Object.fromEntries(user.tags),
    groups: [...user.groups],
    keys: user.keys.map(key => keySnapshot(key, now)),
    inlinePolicies: Object.fromEntries(user.inlinePolicies),
    attachedPolicies: [...user.attachedPolicyArns],
    permissionsBoundary: user.permissionsBoundary ?? null
  }
}

function secretSnapshot(secret: Secret): SecretSnapshot {
  return {
    region: secret.primaryRegion,
    name: secret.name,
    arn: secretArn(secret, secret.primaryRegion),
    kmsKeyId: secret.kmsKeyId ?? null,
    tags: Object.fromEntries(secret.tags),
    resourcePolicy: secret.resourcePolicy ?? null,
    deleted: secret.deletedDate !== undefined,
    replicas: [...secret.replicas.values()].map(r => ({
      region: r.region,
      status: r.status,
      ...(r.kmsKeyId === undefined ? {} : { kmsKeyId: r.kmsKeyId })
    })),
    versions: [...secret.versions.values()].map(v => ({
      id: v.id,
      stages: [...v.stages],
      createdDate: v.createdDate.toISOString(),
      secretString: v.secretString ?? null
    }))
  }
}

function accountSnapshot(account: Account, now: Date): AccountSnapshot {
  const { iam } = account
  const secrets = [...account.secrets.entries()].flatMap(([region, byName]) =>
    [...byName.values()].filter(secret => secret.primaryRegion === region).map(secretSnapshot)
  )
  const cloudformation = [...account.cloudformation.entries()]
  return {
    id: account.id,
    name: account.name,
    email: account.email,
    status: account.status,
    parentId: account.parentId,
    users: [...iam.users.values()].map(user => userSnapshot(user, now)),
    roles: [...iam.roles.values()].map(role => ({
      name: role.name,
      arn: role.arn,
      trustedPrincipals: [...role.trust.awsPrincipals],
      webIdentity: role.trust.webIdentity,
      managedBy: role.managedBy ?? null
    })),
    groups: [...iam.groups.values()].map(group => ({
      name: group.name,
      members: [...group.members]
    })),
    policies: [...iam.policies.values()].map(policy => ({ name: policy.name, arn: policy.arn })),
    secrets,
    kmsKeys: [...account.kms.values()].map(key => ({
      region: key.region,
      id: key.id,
      arn: key.arn,
      keySpec: key.keySpec,
      keyUsage: key.keyUsage,
      enabled: key.enabled,
      aliases: [...account.kmsAliases]
        .filter(([, target]) => target === key.arn)
        .map(([alias]) => alias.slice(alias.indexOf(':alias/') + 1)),
      creationDate: key.creationDate.toISOString()
    })),
    stackSets: cloudformation.flatMap(([region, cfn]) =>
      [...cfn.stackSets.values()].map(stackSet => ({
        region,
        name: stackSet.name,
        permissionModel: stackSet.permissionModel,
        parameters: Object.fromEntries(stackSet.parameters),
        organizationalUnitIds: [...stackSet.organizationalUnitIds],
        instances: [...stackSet.instances.values()].map(instance => ({
          account: instance.accountId,
          region: instance.region,
          status: instance.status,
          detailedStatus: instance.detailedStatus
        }))
      }))
    ),
    stacks: cloudformation.flatMap(([region, cfn]) =>
      [...cfn.stacks.values()].map(stack => ({
        region,
        name: stack.name,
        status: stack.status,
        parameters: Object.fromEntries(stack.parameters),
        outputs: Object.fromEntries(stack.outputs)
      }))
    )
  }
}

/** The whole state, or one account's part of it. */
export function snapshotState(state: EmulatorState, now: Date, accountId?: string): StateSnapshot {
  const accounts =
    accountId === undefined
      ? [...state.accounts.values()]
      : [state.accounts.get(accountId)].filter((a): a is Account => a !== undefined)
  return {
    now: now.toISOString(),
    organization: {
      id: state.organization.id,
      managementAccountId: state.organization.managementAccountId,
      rootId: state.organization.rootId
    },
    central: {
      accountId: state.central.accountId,
      roleName: state.central.roleName,
      roleArn: state.central.roleArn
    },
    accounts: accounts.map(account => accountSnapshot(account, now))
  }
}
