import { accountRootArn } from './iam-model.js'
import type { Caller } from './service.js'
import type { EmulatorState } from './state.js'

/**
 * Who a request's access key id stands for:
 * - credentials issued by AssumeRole* → that role session, in that account only;
 * - an IAM user's access key → that user (and the key's last-used record is updated);
 * - `EMULATORROOT` + account id → that account's root;
 * - any other id (the ambient credentials a test sets) → the central role, session "ambient".
 * Keys that are inactive or were deleted, and expired sessions, are refused.
 */
export type CallerResolution = { caller: Caller } | { refused: 'invalid' | 'expired' }

export const AMBIENT_SESSION_NAME = 'ambient'

/** Access key ids `EMULATORROOT` + account id act as that account's root (its administrator). */
export const ROOT_KEY_PREFIX = 'EMULATORROOT'

/** Credentials of an account's root, for tests that act as its administrator. */
export function rootCredentials(accountId: string): {
  accessKeyId: string
  secretAccessKey: string
} {
  return {
    accessKeyId: `${ROOT_KEY_PREFIX}${accountId}`,
    secretAccessKey: 'emulator-root-not-a-secret'
  }
}

export function resolveCaller(
  state: EmulatorState,
  accessKeyId: string,
  now: Date,
  usage: { service: string; region: string }
): CallerResolution {
  const session = state.sessions.get(accessKeyId)
  if (session) {
    if (session.expiration.getTime() <= now.getTime()) return { refused: 'expired' }
    return {
      caller: {
        kind: 'session',
        accountId: session.accountId,
        arn: session.arn,
        userId: `${session.roleId}:${session.sessionName}`,
        roleArn: session.roleArn,
        roleName: session.roleName,
        sessionName: session.sessionName,
        accessKeyId
      }
    }
  }

  const key = state.accessKeys.get(accessKeyId)
  if (key) {
    const user = state.accounts.get(key.accountId)?.iam.users.get(key.userName)
    if (key.status !== 'Active' || !user) return { refused: 'invalid' }
    // IAM is global: AWS records its use in us-east-1.
    const region = usage.service === 'iam' ? 'us-east-1' : usage.region
    key.lastUsed = { date: now, service: usage.service, region }
    return {
      caller: {
        kind: 'user',
        accountId: key.accountId,
        arn: user.arn,
        userId: user.id,
        userName: user.name,
        accessKeyId
      }
    }
  }

  if (state.retiredAccessKeyIds.has(accessKeyId)) return { refused: 'invalid' }

  if (accessKeyId.startsWith(ROOT_KEY_PREFIX)) {
    const accountId = accessKeyId.slice(ROOT_KEY_PREFIX.length)
    if (!state.accounts.has(accountId)) return { refused: 'invalid' }
    return {
      caller: {
        kind: 'root',
        accountId,
        arn: accountRootArn(accountId),
        userId: accountId,
        accessKeyId
      }
    }
  }

  const { central } = state
  const role = state.accounts.get(central.accountId)?.iam.roles.get(central.roleName)
  return {
    caller: {
      kind: 'session',
      accountId: central.accountId,
      arn: `arn:aws:sts::${central.accountId}:assumed-role/${central.roleName}/${AMBIENT_SESSION_NAME}`,
      userId: `${role?.id ?? 'AROAEMULATORCENTRAL00'}:${AMBIENT_SESSION_NAME}`,
      roleArn: central.roleArn,
      roleName: central.roleName,
      sessionName: AMBIENT_SESSION_NAME,
      accessKeyId
    }
  }
}
