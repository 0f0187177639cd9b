import {
  NO_ENTRIES,
  NO_ITEMS,
  NO_NAMES,
  type AccessKey,
  type Account,
  type EmulatorState,
  type IamRole,
  type IamUser,
  type LastUsed,
  type RoleTrust
} from './state.js'

/** IAM entities are built here, so the world loader, IAM, STS and CloudFormation agree on them. */

export const GITHUB_OIDC_PROVIDER = 'token.actions.githubusercontent.com'
export const MAX_KEYS_PER_USER = 2

export function normalizePath(path: string | undefined): string {
  if (path === undefined || path === '' || path === '/') return '/'
  return `${path.startsWith('/') ? '' : '/'}${path}${path.endsWith('/') ? '' : '/'}`
}

export function iamArn(
  accountId: string,
  kind: 'user' | 'role' | 'group' | 'policy',
  path: string,
  name: string
): string {
  // join() keeps the ARN one flat string (a template literal would keep its pieces).
  return ['arn:aws:iam::', accountId, ':', kind, path, name].join('')
}

export function accountRootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`
}

/** `arn:aws:iam::ACCOUNT:role/path/NAME` → its parts; undefined for anything else. */
export function parseRoleArn(arn: string): { accountId: string; name: string } | undefined {
  const match = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn)
  if (!match) return undefined
  const [, accountId = '', name = ''] = match
  return { accountId, name }
}

/** `arn:aws:iam::ACCOUNT:user|role|group/path/NAME` → its parts; undefined for anything else. */
export function parseEntityArn(
  arn: string
): { accountId: string; kind: 'user' | 'role' | 'group'; name: string } | undefined {
  const match = /^arn:aws:iam::(\d{12}):(user|role|group)\/(?:[^:]*\/)?([^/:]+)$/.exec(arn)
  if (!match) return undefined
  const [, accountId = '', kind = '', name = ''] = match
  return { accountId, kind: kind as 'user' | 'role' | 'group', name }
}

export function addUser(
  state: EmulatorState,
  account: Account,
  fields: {
    name: string
    path?: string | undefined
    createDate: Date
    tags?: ReadonlyMap<string, string> | undefined
  }
): IamUser {
  const path = normalizePath(fields.path)
  const user: IamUser = {
    name: fields.name,
    path,
    id: state.ids.uniqueId('AIDA', `${account.id}/user/${fields.name}`),
    arn: iamArn(account.id, 'user', path, fields.name),
    createDate: fields.createDate,
    tags: fields.tags ?? NO_ENTRIES,
    keys: [],
    inlinePolicies: NO_ENTRIES,
    attachedPolicyArns: NO_ITEMS,
    groups: NO_NAMES,
    permissionsBoundary: undefined
  }
  account.iam.users.set(user.name, user)
  return user
}

export function addAccessKey(
  state: EmulatorState,
  user: IamUser,
  accountId: string,
  fields: { id: string; status: 'Active' | 'Inactive'; createDate: Date; lastUsed?: LastUsed }
): AccessKey {
  const key: AccessKey = {
    id: fields.id,
    accountId,
    userName: user.name,
    status: fields.status,
    createDate: fields.createDate,
    lastUsed: fields.lastUsed
  }
  // Replaced rather than grown: an array grown by push reserves room for 17 keys.
  user.keys = [...user.keys, key]
  state.accessKeys.set(key.id, key)
  return key
}

export function removeAccessKey(state: EmulatorState, user: IamUser, key: AccessKey): void {
  user.keys = user.keys.filter(existing => existing !== key)
  state.accessKeys.delete(key.id)
  state.retiredAccessKeyIds.add(key.id)
}

/** A trust policy document allowing these principals (and, optionally, GitHub's OIDC provider). */
export function trustFromPrincipals(
  accountId: string,
  awsPrincipals: string[],
  webIdentity: boolean
): RoleTrust {
  const statements: object[] = []
  if (awsPrincipals.length > 0) {
    statements.push({
      Effect: 'Allow',
      Principal: { AWS: awsPrincipals.length === 1 ? awsPrincipals[0] : awsPrincipals },
      Action: 'sts:AssumeRole'
    })
  }
  if (webIdentity) {
    statements.push({
      Effect: 'Allow',
      Principal: {
        Federated: `arn:aws:iam::${accountId}:oidc-provider/${GITHUB_OIDC_PROVIDER}`
      },
      Action: 'sts:AssumeRoleWithWebIdentity'
    })
  }
  const document = JSON.stringify({ Version: '2012-10-17', Statement: statements })
  return { awsPrincipals, webIdentity, document }
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return []
  return Array.isArray(value) ? (value as unknown[]) : [value]
}

function strings(value: unknown): string[] {
  return asList(value).filter((item): item is string => typeof item === 'string')
}

function grants(actions: string[], action: string): boolean {
  return actions.some(a => a === action || a === 'sts:*' || a === '*')
}

/** Reads who a trust policy lets in; throws SyntaxError/TypeError on malformed documents. */
export function trustFromDocument(document: string): RoleTrust {
  const parsed: unknown = JSON.parse(document)
  if (typeof parsed !== 'object' || parsed === null) throw new TypeError('policy is not an object')
  const awsPrincipals: string[] = []
  let webIdentity = false
  for (const statement of asList((parsed as Record<string, unknown>).Statement)) {
    if (typeof statement !== 'object' || statement === null) throw new TypeError('bad statement')
    const { Effect, Principal, Action } = statement as Record<string, unknown>
    if (Effect !== 'Allow') continue
    const actions = strings(Action)
    if (grants(actions, 'sts:AssumeRole')) {
      if (Principal === '*') awsPrincipals.push('*')
      else if (typeof Principal === 'object' && Principal !== null) {
        awsPrincipals.push(...strings((Principal as Record<string, unknown>).AWS))
      }
    }
    if (grants(actions, 'sts:AssumeRoleWithWebIdentity')) {
      if (typeof Principal === 'object' && Principal !== null) {
        webIdentity ||= strings((Principal as Record<string, unknown>).Federated).length > 0
      }
    }
  }
  return { awsPrincipals, webIdentity, document }
}

export function putRole(
  state: EmulatorState,
  account: Account,
  fields: {
    name: string
    path?: string | undefined
    trust: RoleTrust
    createDate: Date
    description?: string | undefined
    maxSessionDuration?: number | undefined
    managedBy?: string | undefined
    tags?: Map<string, string>
    inlinePolicies?: Map<string, string>
  }
): IamRole {
  const path = normalizePath(fields.path)
  const role: IamRole = {
    name: fields.name,
    path,
    id: state.ids.uniqueId('AROA', `${account.id}/role/${fields.name}`),
    arn: iamArn(account.id, 'role', path, fields.name),
    createDate: fields.createDate,
    trust: fields.trust,
    description: fields.description,
    maxSessionDuration: fields.maxSessionDuration ?? 3600,
    tags: fields.tags ?? new Map<string, string>(),
    managedBy: fields.managedBy,
    inlinePolicies: fields.inlinePolicies ?? new Map<string, string>(),
    attachedPolicyArns: [],
    permissionsBoundary: undefined,
    origin: undefined
  }
  account.iam.roles.set(role.name, role)
  return role
}
