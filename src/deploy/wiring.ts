import type { Config } from '../inputs.js'
import type { CentralStackSpec } from './central-stacks.js'
import type { CallAs, MemberRoleParameters } from './deploy-stacks.js'

/** The central roles, as far as this run can tell them (undefined: unknown). */
export interface CentralRoles {
  readonly write?: string | undefined
  readonly audit?: string | undefined
  readonly dryRun?: string | undefined
}

const KMS_KEY_ARN = /^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/

/**
 * Service-managed StackSets are operated from the management account (SELF) or from a
 * registered StackSets delegated administrator (DELEGATED_ADMIN).
 */
export function callAsFor(centralAccountId: string, managementAccountId: string): CallAs {
  return centralAccountId === managementAccountId ? 'SELF' : 'DELEGATED_ADMIN'
}

/**
 * The role ARN behind an STS caller ARN (`arn:aws:sts::1…:assumed-role/NAME/session` →
 * `arn:aws:iam::1…:role/NAME`), for when the action runs on ambient credentials. A role path
 * cannot be recovered from the session ARN: with a path, pass role-to-assume instead.
 */
export function roleArnFromCallerArn(callerArn: string): string | undefined {
  const role = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/.+$/.exec(callerArn)
  if (role) return callerArn
  const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(callerArn)
  if (!session) return undefined
  const [, partition, account, name] = session
  return `arn:${partition ?? 'aws'}:iam::${account ?? ''}:role/${name ?? ''}`
}

/**
 * The member-role StackSet parameters that match the action's inputs. A kms-key-id that is not
 * a key ARN (an alias, a bare id) cannot be named in a policy: it is left out, and the key policy
 * must then allow the member role itself.
 */
export function memberRoleParameters(
  config: Pick<Config, 'memberRoleName' | 'organizationId' | 'exemptionGroup' | 'secrets'> &
    Partial<Pick<Config, 'auditMemberRoleName' | 'userPath'>> & {
      readonly deploy?: Pick<Config['deploy'], 'secretsKeyStackName'>
    },
  centralRoles: CentralRoles,
  options: { readonly createExemptionGroup?: boolean } = {}
): MemberRoleParameters {
  const { secrets } = config
  const kmsKeyArn =
    secrets.kmsKeyId !== undefined && KMS_KEY_ARN.test(secrets.kmsKeyId)
      ? secrets.kmsKeyId
      : undefined
  // The keys of replica-kms-key-ids; a multi-Region key's replicas are covered by KmsKeyArn.
  const replicaKmsKeyArns = (secrets.replicaKeys ?? []).flatMap(key =>
    key.source === 'replica-kms-key-ids' && key.kmsKeyId !== undefined ? [key.kmsKeyId] : []
  )
  return {
    MemberRoleName: config.memberRoleName,
    ...(centralRoles.write ? { CentralRoleArn: centralRoles.write } : {}),
    ...(config.auditMemberRoleName ? { AuditMemberRoleName: config.auditMemberRoleName } : {}),
    ...(centralRoles.audit ? { CentralAuditRoleArn: centralRoles.audit } : {}),
    ...(centralRoles.dryRun ? { CentralDryRunRoleArn: centralRoles.dryRun } : {}),
    ...(config.userPath ? { UserPath: config.userPath } : {}),
    OrganizationId: config.organizationId,
    SecretNamePrefix: secrets.namePrefix,
    ...(secrets.location === 'central' && secrets.accountId
      ? { SecretsAccountId: secrets.accountId }
      : {}),
    ...(kmsKeyArn ? { KmsKeyArn: kmsKeyArn } : {}),
    ...(replicaKmsKeyArns.length > 0 ? { ReplicaKmsKeyArns: replicaKmsKeyArns.join(',') } : {}),
    // The secrets role may describe the secrets key stack by this name (its default otherwise).
    ...(secrets.location === 'central' && config.deploy?.secretsKeyStackName
      ? { SecretsKeyStackName: config.deploy.secretsKeyStackName }
      : {}),
    ...(options.createExemptionGroup === undefined
      ? {}
      : { CreateExemptionGroup: options.createExemptionGroup ? 'true' : 'false' }),
    ExemptionGroupName: config.exemptionGroup
  }
}

/**
 * The central stack (cfn/central-github-oidc.yaml) as these inputs need it: the parameters that
 * decide what the central role may do for this workflow. GitHubOrg and GitHubRepo come from the
 * repository running the workflow, for a stack that does not exist yet.
 */
export function centralStackSpec(
  config: Pick<
    Config,
    | 'awsRegion'
    | 'organizationId'
    | 'managementAccountId'
    | 'includeManagementAccount'
    | 'memberRoleName'
    | 'auditMemberRoleName'
    | 'listAccountsRoleName'
    | 'audience'
    | 'deploy'
    | 'notify'
    | 'secrets'
  >,
  stackName: string,
  repository: string | undefined
): CentralStackSpec {
  const [org, repo] = (repository ?? '').split('/')
  const { secrets } = config
  return {
    name: stackName,
    templateFile: 'central-github-oidc.yaml',
    region: config.awsRegion,
    detectDrift: true,
    ...(org && repo ? { forNewStack: { GitHubOrg: org, GitHubRepo: repo } } : {}),
    // DeployStacks only needs to allow at least what the inputs use: apply covers check.
    atLeast: { DeployStacks: ['off', 'check', 'apply'] },
    wanted: {
      OrganizationId: config.organizationId,
      ManagementAccountId: config.managementAccountId,
      IncludeManagementAccount: config.includeManagementAccount ? 'true' : 'false',
      MemberRoleName: config.memberRoleName,
      AuditMemberRoleName: config.auditMemberRoleName,
      ListAccountsRoleName: config.listAccountsRoleName,
      Audience: config.audience,
      DeployStacks: config.deploy.mode,
      StackSetName: config.deploy.stackSetName,
      ...(config.notify.enabled && config.notify.senderEmail
        ? { SenderEmail: config.notify.senderEmail }
        : {}),
      ...(secrets.location === 'central' && secrets.accountId
        ? { SecretsAccountId: secrets.accountId }
        : {}),
      ...(secrets.location === 'central' && secrets.roleName !== config.memberRoleName
        ? { SecretsRoleName: secrets.roleName }
        : {})
    }
  }
}

/** The list-accounts stack (cfn/management-list-accounts-role.yaml) as these inputs need it. */
export function listAccountsStackSpec(
  config: Pick<Config, 'awsRegion' | 'organizationId' | 'listAccountsRoleName'>,
  stackName: string,
  centralRoles: CentralRoles
): CentralStackSpec {
  return {
    name: stackName,
    templateFile: 'management-list-accounts-role.yaml',
    region: config.awsRegion,
    detectDrift: true,
    wanted: {
      ...(centralRoles.write ? { CentralRoleArn: centralRoles.write } : {}),
      ...(centralRoles.audit ? { CentralAuditRoleArn: centralRoles.audit } : {}),
      ...(centralRoles.dryRun ? { CentralDryRunRoleArn: centralRoles.dryRun } : {}),
      OrganizationId: config.organizationId,
      ListAccountsRoleName: config.listAccountsRoleName
    }
  }
}

/**
 * The secrets key stack (cfn/central-secrets-kms.yaml in the secrets account) as these inputs
 * need it: the role that writes the secrets, and the key the action names.
 */
export function secretsKeyStackSpec(
  config: Pick<Config, 'awsRegion' | 'organizationId' | 'secrets'>,
  stackName: string
): CentralStackSpec {
  const { kmsKeyId } = config.secrets
  return {
    name: stackName,
    templateFile: 'central-secrets-kms.yaml',
    region: config.awsRegion,
    wanted: { OrganizationId: config.organizationId, SecretsRoleName: config.secrets.roleName },
    ...(kmsKeyId !== undefined && KMS_KEY_ARN.test(kmsKeyId)
      ? { expectedOutputs: { KeyArn: { value: kmsKeyId, input: 'kms-key-id' } } }
      : {})
  }
}
