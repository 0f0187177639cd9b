import type {
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeMiddleware
} from '@smithy/types'
import { TEMPLATE_VERSION } from '../deploy/versions.js'

/**
 * Turns AWS's "access denied" errors into ones that say what to fix: which of the project's
 * roles was refused which action, and what grants it (a template at this release's version), or
 * which other policy refused it. A bare AccessDenied on day one is the worst first impression a
 * security tool can make. The hint is built from what the client knows (the role its credentials
 * belong to, the command it sent), so it does not depend on how a service words its refusal.
 */

export interface RoleNames {
  readonly memberRoleName: string
  readonly listAccountsRoleName: string
  /** The role that writes central secrets (the member role of the secrets account). */
  readonly secretsRoleName: string
  readonly stackSetName: string
  readonly managementAccountId: string
  /** The central role the run signs in as: the write, audit or dry-run role. */
  readonly central?: 'write' | 'audit' | 'dry-run'
}

/** The role a client's credentials belong to; undefined: the central credentials. */
export interface CredentialsRole {
  readonly roleName: string
  readonly accountId: string
}

export interface DeniedCall {
  readonly message: string
  /** `service:Operation` of the command that was refused. */
  readonly action: string
  readonly role: CredentialsRole | undefined
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException'])

// "User: ARN is not authorized to perform: ACTION on resource: RESOURCE[ because …| with …]"
const NOT_AUTHORIZED = /is not authorized to perform: (\S+) on resource: (\S+?)\.?(?:\s|$)/
const PRINCIPAL = /User: arn:[^:]+:sts::(\d{12}):assumed-role\/([^/\s]+)\//

/** SDK client name → IAM service prefix. */
const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  IAMClient: 'iam',
  STSClient: 'sts',
  OrganizationsClient: 'organizations',
  SecretsManagerClient: 'secretsmanager',
  SESClient: 'ses',
  CloudFormationClient: 'cloudformation'
}

function grantHint(
  role: string,
  account: string,
  action: string,
  resource: string,
  roles: RoleNames
): string {
  const version = `version ${TEMPLATE_VERSION}`
  if (role === roles.listAccountsRoleName) {
    return (
      `the list-accounts role "${role}" lacks ${action}: deploy cfn/management-list-accounts-role.yaml ` +
      `${version} in the management account ${roles.managementAccountId} (cfn/README.md, step 2).`
    )
  }
  if (role === roles.memberRoleName || role === roles.secretsRoleName) {
    return (
      `the member role "${role}"${account ? ` in account ${account}` : ''} lacks ${action}: update it to ` +
      `cfn/member-role.yaml ${version} (deploy-stacks: apply with mode: enforce updates the StackSet ` +
      `"${roles.stackSetName}"; the stack in the management account is updated by hand, cfn/README.md step 4b).`
    )
  }
  return (
    `the central role "${role}" lacks ${action}${resource ? ` on ${resource}` : ''}: deploy ` +
    `cfn/central-github-oidc.yaml ${version} with parameters that match this workflow's inputs ` +
    `(DeployStacks, SenderEmail, SecretsAccountId; cfn/README.md, step 1).`
  )
}

/**
 * Why STS may have refused the central role an AssumeRole into `roleName` (it never says which):
 * the role is missing, its trust does not name the central role, or the central role's own
 * policy does not allow it. Each cause with the template that fixes it.
 */
export function assumeRoleHint(
  roleName: string,
  accountId: string,
  roles: RoleNames | undefined
): string {
  const [centralRole, centralParameter, memberParameter] =
    roles?.central === 'dry-run'
      ? ['dry-run role', 'CentralDryRunRoleArn', 'AuditMemberRoleName']
      : roles?.central === 'audit'
        ? ['audit role', 'CentralAuditRoleArn', 'AuditMemberRoleName']
        : ['central role', 'CentralRoleArn', 'MemberRoleName']
  const central =
    `or the ${centralRole}'s own policy does not allow sts:AssumeRole on it (deploy ` +
    `cfn/central-github-oidc.yaml version ${TEMPLATE_VERSION} with OrganizationId, ManagementAccountId, ` +
    `${memberParameter}, ListAccountsRoleName and SecretsAccountId matching the inputs).`
  if (roles && roleName === roles.listAccountsRoleName && accountId === roles.managementAccountId) {
    return (
      `Either the list-accounts role "${roleName}" is missing in the management account (deploy ` +
      `cfn/management-list-accounts-role.yaml version ${TEMPLATE_VERSION} there, cfn/README.md step 2), ` +
      `or its trust does not name the ${centralRole} or the organization (${centralParameter}, OrganizationId), ${central}`
    )
  }
  if (roles && accountId === roles.managementAccountId) {
    return (
      `The central roles may assume the management account's member roles only when the central ` +
      `stack has IncludeManagementAccount=true (deploy cfn/central-github-oidc.yaml version ` +
      `${TEMPLATE_VERSION} with it, cfn/README.md step 1), and the role "${roleName}" must exist ` +
      `there as a stack (step 4b); or set include-management-account: false.`
    )
  }
  const member =
    roles && roleName === roles.secretsRoleName && roleName !== roles.memberRoleName
      ? `the secrets role "${roleName}" is missing in the secrets account (deploy cfn/member-role.yaml there as a stack, cfn/README.md step 3)`
      : `the role "${roleName}" is missing in that account (deploy the member-role StackSet there; a ` +
        `service-managed StackSet does not deploy to the management account: deploy cfn/member-role.yaml ` +
        `there as a stack)`
  return (
    `Either ${member}, or its trust does not name the ${centralRole} or the organization ` +
    `(${centralParameter}, OrganizationId), ${central}`
  )
}

/** What to do about a refused call, or undefined when there is nothing better to say. */
export function permissionHint(call: DeniedCall, roles: RoleNames): string | undefined {
  const { message } = call
  const stated = NOT_AUTHORIZED.exec(message)
  const action = stated?.[1] ?? call.action
  // STS gives no reason for a refused AssumeRole: sessions.ts lists the possible causes.
  if (action === 'sts:AssumeRole') return undefined
  const resource = stated?.[2] ?? ''
  const principal = PRINCIPAL.exec(message)
  const role = call.role?.roleName ?? principal?.[2] ?? 'iam-key-rotation-central'
  const account = call.role?.accountId ?? principal?.[1] ?? ''
  const who = `role "${role}"`
  if (/Access to KMS is not allowed/i.test(message)) {
    return (
      `Fix: the KMS key of the secret does not let ${who} use it through Secrets Manager: deploy ` +
      `cfn/central-secrets-kms.yaml version ${TEMPLATE_VERSION} (or allow kms:GenerateDataKey and ` +
      `kms:Decrypt with kms:ViaService secretsmanager in your key's policy), and give the member role ` +
      `KmsKeyArn (cfn/member-role.yaml).`
    )
  }
  const explicit = /with an explicit deny in (?:an? )?([\w -]+?) policy/.exec(message)
  if (explicit) {
    return (
      `Fix: a Deny in a ${explicit[1] ?? ''} policy blocks ${action} for ${who}; this action's templates ` +
      `contain none. Exempt the role from that Deny (for example by aws:PrincipalArn), or ask its owner to.`
    )
  }
  const missing = /because no ([\w -]+?) (?:policy )?allows/.exec(message)?.[1]
  if (missing && !/identity-based/.test(missing)) {
    return (
      `Fix: no ${missing} policy allows ${action}${resource ? ` on ${resource}` : ''} for ${who}: ` +
      `the policy on that side must allow it too (cfn/README.md).`
    )
  }
  // No identity policy allows it, or the service did not say why: the role's template is what
  // grants the action.
  const likely = missing ? '' : 'most likely '
  return `Fix: ${likely}${grantHint(role, account, action, resource, roles)}`
}

/** Adds the hint to access-denied errors as they leave the client, once per call. */
export function permissionHintMiddleware(
  roles: RoleNames,
  role: CredentialsRole | undefined
): InitializeMiddleware<object, object> {
  return <Output extends object>(
      next: InitializeHandler<object, Output>,
      context: HandlerExecutionContext
    ) =>
    async (args: InitializeHandlerArguments<object>) => {
      try {
        return await next(args)
      } catch (error) {
        if (error instanceof Error && ACCESS_DENIED.has(error.name)) {
          const prefix = SERVICE_PREFIX[context.clientName ?? ''] ?? 'unknown'
          const operation = (context.commandName ?? '').replace(/Command$/, '')
          const hint = permissionHint(
            { message: error.message, action: `${prefix}:${operation}`, role },
            roles
          )
          if (hint && !error.message.includes(hint)) {
            error.message = `${error.message.replace(/\.?$/, '.')} ${hint}`
          }
        }
        throw error
      }
    }
}

// The role each credential provider stands for, so a client built with it can say who it is.
const ROLES = new WeakMap<object, CredentialsRole>()

export function rememberRole<T extends object>(credentials: T, role: CredentialsRole): T {
  ROLES.set(credentials, role)
  return credentials
}

export function roleOf(credentials: object | undefined): CredentialsRole | undefined {
  return credentials === undefined ? undefined : ROLES.get(credentials)
}
