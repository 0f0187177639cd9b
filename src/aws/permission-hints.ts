import type {
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeMiddleware
} from '@smithy/types'
import { TEMPLATE_VERSION } from '../deploy/versions.js'

/**
 * Turns AWS's "not authorized" errors into ones that say what to fix: which of the project's
 * roles lacks the permission, and which template (at this release's version) grants it. A bare
 * AccessDenied on day one is the worst first impression a security tool can make.
 */

export interface RoleNames {
  readonly memberRoleName: string
  readonly listAccountsRoleName: string
  /** The role that writes central secrets (the member role of the secrets account). */
  readonly secretsRoleName: string
  readonly stackSetName: string
  readonly managementAccountId: string
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException'])

// "User: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION is not authorized to perform: ACTION on
// resource: RESOURCE[ because …| with an explicit deny in …]"
const NOT_AUTHORIZED =
  /User: arn:[^:]+:sts::(\d{12}):assumed-role\/([^/\s]+)\/\S+ is not authorized to perform: (\S+) on resource: (\S+)/

/** What to do about a denial, or undefined when the message is not a policy denial of ours. */
export function permissionHint(message: string, roles: RoleNames): string | undefined {
  const match = NOT_AUTHORIZED.exec(message)
  if (!match) return undefined
  const [, account = '', role = '', action = '', resource = ''] = match
  // STS gives no reason for a refused AssumeRole: sessions.ts lists the possible causes.
  if (action === 'sts:AssumeRole') return undefined
  if (/explicit deny/.test(message)) {
    return (
      `Fix: a policy outside this action's templates explicitly denies ${action} to role "${role}" ` +
      `(a service control policy, a permissions boundary or a resource policy): remove that Deny ` +
      `for ${resource}.`
    )
  }
  const version = `version ${TEMPLATE_VERSION}`
  if (role === roles.listAccountsRoleName) {
    return (
      `Fix: the list-accounts role "${role}" lacks ${action}: deploy cfn/management-list-accounts-role.yaml ` +
      `${version} in the management account ${roles.managementAccountId} (cfn/README.md, step 2).`
    )
  }
  if (role === roles.memberRoleName || role === roles.secretsRoleName) {
    return (
      `Fix: the member role "${role}" in account ${account} lacks ${action}: update it to ` +
      `cfn/member-role.yaml ${version} (deploy-stacks: apply with mode: enforce updates the StackSet ` +
      `"${roles.stackSetName}"; the stack in the management account is updated by hand, cfn/README.md step 4b).`
    )
  }
  return (
    `Fix: the central role "${role}" lacks ${action} on ${resource}: deploy cfn/central-github-oidc.yaml ` +
    `${version} with parameters that match this workflow's inputs (DeployStacks, SenderEmail, ` +
    `SecretsAccountId; cfn/README.md, step 1).`
  )
}

/** Adds the hint to AccessDenied errors as they leave the client, once per call. */
export function permissionHintMiddleware(roles: RoleNames): InitializeMiddleware<object, object> {
  return <Output extends object>(
      next: InitializeHandler<object, Output>,
      _context: HandlerExecutionContext
    ) =>
    async (args: InitializeHandlerArguments<object>) => {
      try {
        return await next(args)
      } catch (error) {
        if (error instanceof Error && ACCESS_DENIED.has(error.name)) {
          const hint = permissionHint(error.message, roles)
          if (hint && !error.message.includes(hint))
            error.message = `${error.message.replace(/\.?$/, '.')} ${hint}`
        }
        throw error
      }
    }
}
