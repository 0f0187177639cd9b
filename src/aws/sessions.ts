import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  type Credentials as StsCredentials
} from '@aws-sdk/client-sts'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import { awsErrorCode, errorMessage } from '../util/errors.js'
import type { AwsClientFactory } from './clients.js'
import { assumeRoleHint, rememberRole, type RoleNames } from './permission-hints.js'

/** Refresh a session this long before it expires, so no call runs on expiring credentials. */
const REFRESH_MARGIN_MS = 5 * 60_000
const SESSION_SECONDS = 3600

export type SecretMasker = (secret: string) => void

/** AssumeRole failed; the message says what to fix. */
export class AssumeRoleError extends Error {
  constructor(
    readonly roleArn: string,
    readonly code: string,
    message: string
  ) {
    super(message)
    this.name = 'AssumeRoleError'
  }
}

/**
 * Credentials of the central role. With `role-to-assume`, the job's GitHub OIDC token is
 * exchanged for it (and exchanged again before the session expires, for long runs); otherwise
 * the SDK's ambient credential chain is used.
 */
export function centralCredentials(options: {
  factory: AwsClientFactory
  roleToAssume?: string
  audience: string
  sessionName: string
  getIdToken: (audience: string) => Promise<string>
  mask: SecretMasker
}): AwsCredentialIdentityProvider | undefined {
  const { roleToAssume } = options
  if (!roleToAssume) return undefined
  const sts = options.factory.sts()
  const [, , , , accountId = '', resource = ''] = roleToAssume.split(':')
  const central = { roleName: resource.slice(resource.lastIndexOf('/') + 1), accountId }
  return rememberRole(
    refreshing(async () => {
      let token: string
      try {
        token = await options.getIdToken(options.audience)
      } catch (error) {
        throw new Error(
          `Could not get the GitHub OIDC token (${errorMessage(error)}). The job needs "permissions: id-token: write".`,
          { cause: error }
        )
      }
      try {
        const { Credentials: credentials } = await sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: roleToAssume,
            RoleSessionName: options.sessionName,
            WebIdentityToken: token,
            DurationSeconds: SESSION_SECONDS
          })
        )
        return toIdentity(credentials, options.mask)
      } catch (error) {
        throw new AssumeRoleError(
          roleToAssume,
          awsErrorCode(error) ?? 'Error',
          `Could not assume ${roleToAssume} with the GitHub OIDC token: ${errorMessage(error)}. ` +
            `Check the role's trust policy: federated principal token.actions.githubusercontent.com, ` +
            `"aud" = "${options.audience}" and a "sub" that matches this repository and branch or environment.`
        )
      }
    }),
    central
  )
}

/**
 * One session per role for the whole run: the first request assumes the role, later ones reuse
 * it (refreshed before expiry). A failed assumption is remembered too, so an account whose role
 * is missing costs one AssumeRole call, not one per phase.
 */
export class RoleSessions {
  private readonly sessions = new Map<string, AwsCredentialIdentityProvider>()
  private readonly sts

  private readonly roles: RoleNames | undefined

  constructor(
    factory: AwsClientFactory,
    base: AwsCredentialIdentityProvider | undefined,
    private readonly sessionName: string,
    private readonly mask: SecretMasker,
    readonly partition = 'aws'
  ) {
    this.sts = factory.sts(base)
    this.roles = factory.settings.roles
  }

  roleArn(accountId: string, roleName: string): string {
    return `arn:${this.partition}:iam::${accountId}:role/${roleName}`
  }

  /** Credentials for `roleName` in `accountId`; throws AssumeRoleError with an actionable message. */
  credentials(accountId: string, roleName: string): AwsCredentialIdentityProvider {
    const roleArn = this.roleArn(accountId, roleName)
    let session = this.sessions.get(roleArn)
    if (!session) {
      session = rememberRole(
        refreshing(() => this.assume(roleArn, roleName)),
        { roleName, accountId }
      )
      this.sessions.set(roleArn, session)
    }
    return session
  }

  /**
   * Forgets an account's session once the run is done with the account, so that the sessions
   * held follow the accounts in flight, not the organization's size. A later use assumes again.
   */
  release(accountId: string, roleName: string): void {
    this.sessions.delete(this.roleArn(accountId, roleName))
  }

  private async assume(roleArn: string, roleName: string): Promise<AwsCredentialIdentity> {
    try {
      const { Credentials: credentials } = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: this.sessionName,
          DurationSeconds: SESSION_SECONDS
        })
      )
      return toIdentity(credentials, this.mask)
    } catch (error) {
      const code = awsErrorCode(error) ?? 'Error'
      const message = errorMessage(error)
      const denied = code === 'AccessDenied' || code === 'AccessDeniedException'
      const accountId = roleArn.split(':')[4] ?? ''
      const hint = denied ? ` ${assumeRoleHint(roleName, accountId, this.roles)}` : ''
      throw new AssumeRoleError(
        roleArn,
        code,
        `Could not assume ${roleArn}: ${message.replace(/\.$/, '')}.${hint}`
      )
    }
  }
}

function toIdentity(
  credentials: StsCredentials | undefined,
  mask: SecretMasker
): AwsCredentialIdentity {
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
    throw new Error('STS returned no credentials')
  }
  mask(credentials.SecretAccessKey)
  if (credentials.SessionToken) mask(credentials.SessionToken)
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
    ...(credentials.Expiration ? { expiration: credentials.Expiration } : {})
  }
}

/**
 * Memoises a credential source: concurrent callers share one request, a failure is kept (not
 * retried on every call), and a session is renewed shortly before it expires.
 */
function refreshing(obtain: () => Promise<AwsCredentialIdentity>): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined
  let expiresAt = Infinity
  return () => {
    if (!current || Date.now() > expiresAt - REFRESH_MARGIN_MS) {
      current = obtain()
      expiresAt = Infinity
      const receivedAt = Date.now()
      current.then(
        identity => {
          // Trust the expiry STS states unless the local clock disagrees with it (skew): then
          // count the session's duration from when it arrived here.
          const stated = identity.expiration?.getTime() ?? Infinity
          expiresAt = stated > receivedAt ? stated : receivedAt + SESSION_SECONDS * 1000
        },
        () => undefined
      )
    }
    return current
  }
}
