import type { KeyObject } from 'node:crypto'
import type { DeployedResource } from './cfn-engine.js'
import type { IdFactory } from './random.js'
import type { AccountStatus, PageSizes, StackInstanceStatus } from './world.js'

/**
 * The emulator's live state. Everything an operation touches is reached through Maps keyed by
 * account (then region, then name), so a request costs the same with 5 or 5,000 accounts.
 */

export interface LastUsed {
  date: Date
  service: string
  region: string
}

export interface AccessKey {
  id: string
  accountId: string
  userName: string
  status: 'Active' | 'Inactive'
  createDate: Date
  lastUsed: LastUsed | undefined
}

export interface IamUser {
  name: string
  path: string
  id: string
  arn: string
  createDate: Date
  /** In creation order. */
  keys: AccessKey[]
  // Replaced on change, never mutated: most users share the empty ones, which keeps worlds of
  // hundreds of thousands of users small.
  tags: ReadonlyMap<string, string>
  inlinePolicies: ReadonlyMap<string, string>
  attachedPolicyArns: readonly string[]
  groups: ReadonlySet<string>
  /** ARN of the managed policy that bounds the user's permissions. */
  permissionsBoundary: string | undefined
}

export interface RoleTrust {
  /** ARNs, account ids or "*" allowed to call sts:AssumeRole. */
  awsPrincipals: string[]
  /** Trusts a web identity (OIDC) provider. */
  webIdentity: boolean
  /** The trust policy as written (CreateRole) or as derived from the world. */
  document: string
}

export interface IamRole {
  name: string
  path: string
  id: string
  arn: string
  createDate: Date
  trust: RoleTrust
  description: string | undefined
  maxSessionDuration: number
  tags: Map<string, string>
  /** Stack set (or stack) whose deployment created or last updated the role. */
  managedBy: string | undefined
  /** Inline policies: name → document (JSON text). */
  inlinePolicies: Map<string, string>
  attachedPolicyArns: string[]
  /** ARN of the managed policy that bounds the role's permissions. */
  permissionsBoundary: string | undefined
  /** Logical id of the template resource that created it (MemberRole), if a stack did. */
  origin: string | undefined
}

export interface OidcProvider {
  arn: string
  url: string
  /** The audiences (`aud`) the provider accepts. */
  clientIds: string[]
}

export type KmsKeySpec = 'SYMMETRIC_DEFAULT' | 'ECC_NIST_P256'
export type KmsKeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY'

/** A KMS key, as far as the emulator models KMS: its key policy decides who may use it. */
export interface KmsKey {
  id: string
  arn: string
  accountId: string
  region: string
  /** The key policy (JSON text). */
  policy: string
  enabled: boolean
  description: string | undefined
  keySpec: KmsKeySpec
  keyUsage: KmsKeyUsage
  creationDate: Date
  /** Logical id of the template resource that created it (StateSigningKey). */
  origin: string | undefined
  /** The key pair of an asymmetric (ECC_NIST_P256) key; never leaves the emulator's state. */
  keyPair: { privateKey: KeyObject; publicKey: KeyObject } | undefined
  /**
   * A multi-Region key (id `mrk-…`): the primary's ARN. Its replicas are the account's keys of
   * the same id in other regions, each with a key policy of its own. undefined: single-region.
   */
  multiRegionPrimaryArn?: string | undefined
}

export interface IamGroup {
  name: string
  path: string
  id: string
  arn: string
  createDate: Date
  members: string[]
}

export interface ManagedPolicy {
  name: string
  path: string
  id: string
  arn: string
  document: string
  description: string | undefined
  createDate: Date
  tags: Map<string, string>
  /** Logical id of the template resource that created it, if a stack did. */
  origin?: string | undefined
}

export interface CredentialReport {
  state: 'STARTED' | 'COMPLETE'
  generatedTime: Date
  /** CSV, captured when generation started. */
  content: string
}

export interface IamAccountState {
  users: Map<string, IamUser>
  roles: Map<string, IamRole>
  groups: Map<string, IamGroup>
  /** Customer managed policies by ARN. */
  policies: Map<string, ManagedPolicy>
  /** OIDC identity providers by ARN. */
  oidcProviders: Map<string, OidcProvider>
  credentialReport: CredentialReport | undefined
}

export interface SecretVersion {
  id: string
  secretString: string | undefined
  /** Base64 of SecretBinary. */
  secretBinary: string | undefined
  stages: Set<string>
  createdDate: Date
  /**
   * The KMS keys (as the secret named them) that can decrypt this version: the secret's key when
   * it was written, and the keys a later key change re-encrypted it with. The AWS managed key is
   * `alias/aws/secretsmanager`.
   */
  encryptedWith: readonly string[]
}

export interface SecretReplica {
  region: string
  kmsKeyId: string | undefined
  status: 'InSync' | 'Failed' | 'InProgress'
  statusMessage: string
}

export interface Secret {
  name: string
  accountId: string
  primaryRegion: string
  /** The six characters after the name in the ARN. */
  arnSuffix: string
  description: string | undefined
  kmsKeyId: string | undefined
  tags: Map<string, string>
  /** In creation order. */
  versions: Map<string, SecretVersion>
  resourcePolicy: string | undefined
  replicas: Map<string, SecretReplica>
  createdDate: Date
  lastChangedDate: Date
  lastAccessedDate: Date | undefined
  deletedDate: Date | undefined
}

export interface SesRegionState {
  verifiedIdentities: Set<string>
  /** Epoch ms of each recipient delivery, oldest first; entries before `firstRecent` are older
   * than a day (dropped lazily, so counting stays cheap however much is sent). */
  sendTimes: number[]
  firstRecent: number
}

export type StackInstanceDetailedStatus =
  'SUCCEEDED' | 'FAILED' | 'INOPERABLE' | 'SKIPPED_SUSPENDED_ACCOUNT' | 'PENDING' | 'RUNNING'

export interface StackInstance {
  accountId: string
  region: string
  organizationalUnitId: string | undefined
  stackId: string
  status: StackInstanceStatus
  detailedStatus: StackInstanceDetailedStatus
  statusReason: string | undefined
  lastOperationId: string | undefined
  parameterOverrides: Map<string, string>
  /** What the instance's stack deployed in its account. */
  resources: ReadonlyMap<string, DeployedResource>
}

export interface StackSetOperation {
  id: string
  action: 'CREATE' | 'UPDATE' | 'DELETE'
  /** The status reached once the operation has been observed running. */
  finalStatus: 'SUCCEEDED' | 'FAILED'
  describeCount: number
  creationTimestamp: Date
  endTimestamp: Date
  accounts: string[]
  organizationalUnitIds: string[]
  regions: string[]
  statusReason: string | undefined
}

export interface StackSet {
  name: string
  id: string
  arn: string
  accountId: string
  region: string
  description: string | undefined
  templateBody: string
  parameters: Map<string, string>
  capabilities: string[]
  tags: Map<string, string>
  permissionModel: 'SERVICE_MANAGED' | 'SELF_MANAGED'
  autoDeployment: { enabled: boolean; retainStacksOnAccountRemoval: boolean } | undefined
  organizationalUnitIds: Set<string>
  regions: Set<string>
  /** Keyed `${accountId}/${region}`, in creation order. */
  instances: Map<string, StackInstance>
  operations: Map<string, StackSetOperation>
}

export interface Stack {
  name: string
  id: string
  description: string | undefined
  templateBody: string
  parameters: Map<string, string>
  capabilities: string[]
  tags: Map<string, string>
  status: string
  statusReason: string | undefined
  creationTime: Date
  lastUpdatedTime: Date | undefined
  resources: ReadonlyMap<string, DeployedResource>
  outputs: ReadonlyMap<string, string>
}

export interface CloudFormationRegionState {
  stackSets: Map<string, StackSet>
  stacks: Map<string, Stack>
}

export interface Account {
  id: string
  name: string
  email: string
  status: AccountStatus
  arn: string
  parentId: string
  joinedTimestamp: Date
  iam: IamAccountState
  /** region → name → secret; a replica appears under its region as the same object. */
  secrets: Map<string, Map<string, Secret>>
  ses: Map<string, SesRegionState>
  cloudformation: Map<string, CloudFormationRegionState>
  /** KMS keys by ARN. */
  kms: Map<string, KmsKey>
  /** Alias ARN → key ARN. */
  kmsAliases: Map<string, string>
}

export interface OrganizationalUnit {
  id: string
  name: string
  parentId: string
  arn: string
}

export interface OrganizationChildren {
  accounts: string[]
  organizationalUnits: string[]
}

export interface Organization {
  id: string
  arn: string
  managementAccountId: string
  rootId: string
  rootArn: string
}

/** Temporary credentials issued by AssumeRole / AssumeRoleWithWebIdentity. */
export interface Session {
  accessKeyId: string
  accountId: string
  roleName: string
  roleArn: string
  roleId: string
  sessionName: string
  arn: string
  expiration: Date
}

export interface SentEmail {
  messageId: string
  accountId: string
  region: string
  from: string
  to: string[]
  cc: string[]
  bcc: string[]
  replyTo: string[]
  subject: string
  text: string | undefined
  html: string | undefined
  time: string
}

/** A secret value was stored: by CreateSecret with a value, PutSecretValue or UpdateSecret. */
export interface SecretValueWrite {
  /** ISO time on the emulator clock. */
  time: string
  account: string
  /** The secret's primary region, where values are written. */
  region: string
  name: string
  operation: 'CreateSecret' | 'PutSecretValue' | 'UpdateSecret'
  versionId: string
  /** Whether the secret had a resource policy when the value was written. */
  hadResourcePolicy: boolean
}

export interface CentralPrincipal {
  accountId: string
  roleName: string
  roleArn: string
}

export interface EmulatorConfig {
  pageSizes: PageSizes
  memberRoleName: string
  listAccountsRoleName: string
  ses: { verifiedIdentities: Set<string>; max24HourSend: number; maxSendRate: number }
  cloudformation: { failInstanceAccounts: Set<string>; inoperableInstanceAccounts: Set<string> }
}

export class EmulatorState {
  readonly accounts = new Map<string, Account>()
  /** Account ids in organization order (ListAccounts pages through this). */
  readonly accountIds: string[] = []
  readonly organizationalUnits = new Map<string, OrganizationalUnit>()
  /** Parent (root or OU) id → direct children, in world order. */
  readonly children = new Map<string, OrganizationChildren>()
  /** Every existing IAM access key, by id: how a request's AKID finds its user. */
  readonly accessKeys = new Map<string, AccessKey>()
  /** Ids of deleted keys: using one is an invalid token, not the ambient caller. */
  readonly retiredAccessKeyIds = new Set<string>()
  readonly sessions = new Map<string, Session>()
  readonly emails: SentEmail[] = []
  /** Every secret value written through the API, oldest first (world secrets are not). */
  readonly secretValueWrites: SecretValueWrite[] = []

  constructor(
    readonly organization: Organization,
    readonly central: CentralPrincipal,
    readonly config: EmulatorConfig,
    readonly ids: IdFactory
  ) {}

  childrenOf(parentId: string): OrganizationChildren {
    let children = this.children.get(parentId)
    if (!children) {
      children = { accounts: [], organizationalUnits: [] }
      this.children.set(parentId, children)
    }
    return children
  }

  isParent(id: string): boolean {
    return id === this.organization.rootId || this.organizationalUnits.has(id)
  }

  /** All accounts under a root or OU, recursively, in world order. */
  accountsUnder(parentId: string): string[] {
    const found: string[] = []
    const visit = (id: string): void => {
      const children = this.children.get(id)
      if (!children) return
      found.push(...children.accounts)
      for (const ou of children.organizationalUnits) visit(ou)
    }
    visit(parentId)
    return found
  }
}

export const NO_ENTRIES: ReadonlyMap<string, string> = new Map()
export const NO_NAMES: ReadonlySet<string> = new Set()
export const NO_ITEMS: readonly string[] = Object.freeze([])

/** The value under `key`, created on first use. */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key)
  if (value === undefined) {
    value = create()
    map.set(key, value)
  }
  return value
}

export function newAccount(
  fields: Pick<Account, 'id' | 'name' | 'email' | 'status' | 'arn' | 'parentId' | 'joinedTimestamp'>
): Account {
  return {
    ...fields,
    iam: {
      users: new Map(),
      roles: new Map(),
      groups: new Map(),
      policies: new Map(),
      oidcProviders: new Map(),
      credentialReport: undefined
    },
    secrets: new Map(),
    ses: new Map(),
    cloudformation: new Map(),
    kms: new Map(),
    kmsAliases: new Map()
  }
}
