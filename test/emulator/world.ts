import { readFile } from 'node:fs/promises'
import type { Faults } from './faults.js'

/**
 * The world file: the organization the emulator starts from. Ages (`ageDays`,
 * `lastUsedDaysAgo`) are relative to the emulator clock when the world is loaded.
 * See the contract's "Local emulator world file" section; everything beyond it is optional.
 */
export interface World {
  /** Free text for people reading the file (JSON has no comments). */
  description?: string
  organizationId: string
  managementAccountId: string
  /** Organization root id; default `r-` + the first four characters of the organization id. */
  rootId?: string
  /** Seed for deterministic ids and fault PRNG (default 1). */
  seed?: number
  /** ISO date: set the emulator clock to this instant when the world loads. */
  now?: string
  /** The principal ambient credentials act as (the rotation workflow's central role). */
  central?: CentralConfig
  /** How the project's cfn/ templates are deployed when the world loads (cfn/README.md). */
  bootstrap?: WorldBootstrap
  /** Name of the role `memberRole: true` creates (default iam-key-rotation-member). */
  memberRoleName?: string
  /** Name of the listing role in the management account (default iam-key-rotation-list-accounts). */
  listAccountsRoleName?: string
  /** false: do not create the listing role in the management account. */
  listAccountsRole?: boolean
  organizationalUnits?: WorldOrganizationalUnit[]
  accounts?: WorldAccount[]
  ses?: WorldSes
  pageSizes?: PageSizes
  cloudformation?: WorldCloudFormation
  faults?: Faults
}

export interface CentralConfig {
  /** Default: the management account. */
  accountId?: string
  /** Default: iam-key-rotation-central. */
  roleName?: string
}

/**
 * The bootstrap of cfn/README.md, run through the emulator's CloudFormation when the world
 * loads: the central stack (central-github-oidc.yaml) in the central account, the list-accounts
 * stack in the management account, the secrets key where asked, and member-role.yaml as a
 * stack in every account with `memberRole: true` that no world stack set instance covers.
 * Parameters given here override the defaults the loader derives from the world.
 */
export interface WorldBootstrap {
  central?: Record<string, string>
  listAccounts?: Record<string, string>
  member?: Record<string, string>
  /**
   * Deploy central-secrets-kms.yaml (stack iam-key-rotation-secrets-key) in this account.
   * `replicaRegions`: replicate its key there (it must be multi-Region: parameters
   * `MultiRegion: 'true'`), each replica with a copy of the primary's key policy, as
   * `aws kms replicate-key --policy` makes them (cfn/README.md).
   */
  secretsKey?: { accountId: string; parameters?: Record<string, string>; replicaRegions?: string[] }
  /** Template bodies that replace cfn/FILE, by file name (negative controls). */
  templates?: Record<string, string>
}

export interface WorldOrganizationalUnit {
  id: string
  name?: string
  /** Root id or another OU id; default the root. */
  parentId?: string
}

/** The account's Organizations state (`State`, and the deprecated `Status`). */
export type AccountStatus = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE'

export interface WorldAccount {
  id: string
  name?: string
  email?: string
  status?: AccountStatus
  /** OU id (declared in `organizationalUnits`, or created under the root on the fly); default the root. */
  ou?: string
  /** Create the member role, trusting the central role. */
  memberRole?: boolean
  /** Management account only: false skips the listing role. */
  listAccountsRole?: boolean
  /** Customer managed policies, created before the users that attach them or are bounded by them. */
  managedPolicies?: WorldManagedPolicy[]
  roles?: WorldRole[]
  groups?: WorldGroup[]
  users?: WorldUser[]
  secrets?: WorldSecret[]
  /** KMS keys beside those stacks create (symmetric, ENCRYPT_DECRYPT). */
  kmsKeys?: WorldKmsKey[]
}

/**
 * A symmetric KMS key: `arn:aws:kms:REGION:ACCOUNT:key/ID`. A multi-Region one (id `mrk-…`) may
 * have replicas: the same id in `replicaRegions`, each with a copy of the key policy.
 */
export interface WorldKmsKey {
  /** Default: derived from the seed (`mrk-` and 32 hex digits when multi-Region). */
  id?: string
  /** Default us-east-1. */
  region?: string
  multiRegion?: boolean
  replicaRegions?: string[]
  /** `alias/NAME` for the key in its region (not its replicas). */
  alias?: string
  /** The key policy (object or JSON text); default KMS's: the account administers it through IAM. */
  policy?: string | Record<string, unknown>
}

/** A customer managed policy: `arn:aws:iam::ACCOUNT:policy{path}{name}`. */
export interface WorldManagedPolicy {
  name: string
  /** Default `/`. */
  path?: string
  description?: string
  /** The policy document (object or JSON text), checked as IAM checks an identity policy. */
  document: string | Record<string, unknown>
}

export interface WorldRole {
  name: string
  /** ARNs (or account ids, or "*") allowed to call sts:AssumeRole. */
  trustedPrincipals?: string[]
  /** Trusts the GitHub OIDC provider (AssumeRoleWithWebIdentity). */
  webIdentity?: boolean
  path?: string
  /** Default 3600. */
  maxSessionDuration?: number
  /** Inline identity policies: name → document. */
  policies?: Record<string, Record<string, unknown>>
}

export interface WorldGroup {
  name: string
  members?: string[]
  path?: string
}

export interface WorldUser {
  name: string
  path?: string
  tags?: Record<string, string>
  keys?: WorldAccessKey[]
  /** Default: a day older than the user's oldest key, at least 30 days. */
  createdDaysAgo?: number
  /** Managed policy ARNs attached to the user (AWS-managed ones need not exist). */
  attachedPolicies?: string[]
  /**
   * ARN of the managed policy that is the user's permissions boundary. The emulator reads its
   * document when the user calls (a world `managedPolicies` entry, a stack's or a CreatePolicy);
   * one it cannot read (an AWS managed policy) allows nothing.
   */
  permissionsBoundary?: string
}

export interface WorldAccessKey {
  /** Default: a deterministic AKIA id from the seed, account, user and position. */
  id?: string
  /** Default Active. */
  status?: 'Active' | 'Inactive'
  ageDays: number
  /** null or absent: never used. */
  lastUsedDaysAgo?: number | null
  /** Default s3. */
  lastUsedService?: string
  /** Default us-east-1. */
  lastUsedRegion?: string
}

export interface WorldSecret {
  name: string
  /** Default us-east-1. */
  region?: string
  /** A string, or an object stored as its JSON. */
  value: string | Record<string, unknown>
  tags?: Record<string, string>
  kmsKeyId?: string
  description?: string
  /** A policy document (object or JSON text). */
  resourcePolicy?: string | Record<string, unknown>
  replicaRegions?: string[]
}

export interface WorldSes {
  /** Addresses or domains any account may send from. */
  verifiedIdentities?: string[]
  /** Default 50000. */
  max24HourSend?: number
  /** Default 14. */
  maxSendRate?: number
}

/** Largest page a list operation serves, whatever MaxResults/MaxItems asks for. */
export interface PageSizes {
  organizations?: number
  iam?: number
  secretsmanager?: number
  cloudformation?: number
}

export type StackInstanceStatus = 'CURRENT' | 'OUTDATED' | 'INOPERABLE'

export interface WorldCloudFormation {
  /** Stack instances in these accounts fail (DetailedStatus FAILED, no role created). */
  failInstanceAccounts?: string[]
  /** Stack instances in these accounts end INOPERABLE. */
  inoperableInstanceAccounts?: string[]
  /** Stack sets that already exist (in the management account unless `accountId` says otherwise). */
  stackSets?: WorldStackSet[]
}

export interface WorldStackSet {
  name: string
  accountId?: string
  /** Default us-east-1. */
  region?: string
  templateBody?: string
  description?: string
  parameters?: Record<string, string>
  /** Default SERVICE_MANAGED. */
  permissionModel?: 'SERVICE_MANAGED' | 'SELF_MANAGED'
  autoDeployment?: boolean
  /** Deployment targets (roots or OUs); default: the parent of each instance's account. */
  organizationalUnitIds?: string[]
  instances?: WorldStackInstance[]
}

export interface WorldStackInstance {
  account: string
  /** Default: the stack set's region. */
  region?: string
  /** Default CURRENT (the member role hook runs for CURRENT instances). */
  status?: StackInstanceStatus
}

// ---------------------------------------------------------------------------------------------
// Validation: the world arrives as JSON from files and the HTTP API, so check it field by field
// and name the exact path of anything wrong (including unknown fields, which are usually typos).

type Schema =
  | 'string'
  | 'number'
  | 'boolean'
  | { enum: readonly string[] }
  | { arrayOf: Schema }
  | { recordOf: Schema }
  | { anyOf: readonly Schema[] }
  | { fields: Readonly<Record<string, Schema>>; required?: readonly string[] }
  | 'null'
  | 'object'

function check(value: unknown, schema: Schema, path: string): string | undefined {
  if (schema === 'null') return value === null ? undefined : `${path} must be null`
  if (schema === 'string' || schema === 'number' || schema === 'boolean') {
    const ok = typeof value === schema && !(schema === 'number' && !Number.isFinite(value))
    return ok ? undefined : `${path} must be a ${schema}`
  }
  if (schema === 'object') {
    return isPlainObject(value) ? undefined : `${path} must be an object`
  }
  if ('enum' in schema) {
    return typeof value === 'string' && schema.enum.includes(value)
      ? undefined
      : `${path} must be one of ${schema.enum.join(', ')}`
  }
  if ('anyOf' in schema) {
    const problems = schema.anyOf.map(option => check(value, option, path))
    return problems.some(problem => problem === undefined) ? undefined : problems.join(', or ')
  }
  if ('arrayOf' in schema) {
    if (!Array.isArray(value)) return `${path} must be an array`
    for (const [i, item] of value.entries()) {
      const problem = check(item, schema.arrayOf, `${path}[${i}]`)
      if (problem) return problem
    }
    return undefined
  }
  if (!isPlainObject(value)) return `${path} must be an object`
  if ('recordOf' in schema) {
    for (const [key, item] of Object.entries(value)) {
      const problem = check(item, schema.recordOf, `${path}.${key}`)
      if (problem) return problem
    }
    return undefined
  }
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) return `${path}.${name} is required`
  }
  for (const [key, item] of Object.entries(value)) {
    const fieldSchema = schema.fields[key]
    if (fieldSchema === undefined) return `${path}.${key} is not a known field`
    if (item === undefined) continue
    const problem = check(item, fieldSchema, `${path}.${key}`)
    if (problem) return problem
  }
  return undefined
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const strings: Schema = { arrayOf: 'string' }
const stringRecord: Schema = { recordOf: 'string' }

const throttleRule: Schema = {
  fields: { account: 'string', service: 'string', operation: 'string', rate: 'number' },
  required: ['rate']
}
const failNthRule: Schema = {
  fields: {
    service: 'string',
    account: 'string',
    operation: 'string',
    params: stringRecord,
    n: 'number',
    code: 'string',
    message: 'string',
    status: 'number',
    times: 'number'
  },
  required: ['operation', 'n']
}

const faultsSchema: Schema = {
  fields: {
    assumeRoleDenied: strings,
    throttle: { arrayOf: throttleRule },
    latencyMs: {
      anyOf: ['number', { fields: { min: 'number', max: 'number' }, required: ['min', 'max'] }]
    },
    failNth: { arrayOf: failNthRule },
    emptyPageWithToken: 'boolean',
    credentialReportUnavailable: strings,
    seed: 'number'
  }
}

const accessKey: Schema = {
  fields: {
    id: 'string',
    status: { enum: ['Active', 'Inactive'] },
    ageDays: 'number',
    lastUsedDaysAgo: { anyOf: ['number', 'null'] },
    lastUsedService: 'string',
    lastUsedRegion: 'string'
  },
  required: ['ageDays']
}

const account: Schema = {
  fields: {
    id: 'string',
    name: 'string',
    email: 'string',
    status: { enum: ['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE'] },
    ou: 'string',
    memberRole: 'boolean',
    listAccountsRole: 'boolean',
    managedPolicies: {
      arrayOf: {
        fields: {
          name: 'string',
          path: 'string',
          description: 'string',
          document: { anyOf: ['string', 'object'] }
        },
        required: ['name', 'document']
      }
    },
    roles: {
      arrayOf: {
        fields: {
          name: 'string',
          trustedPrincipals: strings,
          webIdentity: 'boolean',
          path: 'string',
          maxSessionDuration: 'number',
          policies: { recordOf: 'object' }
        },
        required: ['name']
      }
    },
    groups: {
      arrayOf: { fields: { name: 'string', members: strings, path: 'string' }, required: ['name'] }
    },
    users: {
      arrayOf: {
        fields: {
          name: 'string',
          path: 'string',
          tags: stringRecord,
          keys: { arrayOf: accessKey },
          createdDaysAgo: 'number',
          attachedPolicies: strings,
          permissionsBoundary: 'string'
        },
        required: ['name']
      }
    },
    secrets: {
      arrayOf: {
        fields: {
          name: 'string',
          region: 'string',
          value: { anyOf: ['string', 'object'] },
          tags: stringRecord,
          kmsKeyId: 'string',
          description: 'string',
          resourcePolicy: { anyOf: ['string', 'object'] },
          replicaRegions: strings
        },
        required: ['name', 'value']
      }
    },
    kmsKeys: {
      arrayOf: {
        fields: {
          id: 'string',
          region: 'string',
          multiRegion: 'boolean',
          replicaRegions: strings,
          alias: 'string',
          policy: { anyOf: ['string', 'object'] }
        }
      }
    }
  },
  required: ['id']
}

const stackSet: Schema = {
  fields: {
    name: 'string',
    accountId: 'string',
    region: 'string',
    templateBody: 'string',
    description: 'string',
    parameters: stringRecord,
    permissionModel: { enum: ['SERVICE_MANAGED', 'SELF_MANAGED'] },
    autoDeployment: 'boolean',
    organizationalUnitIds: strings,
    instances: {
      arrayOf: {
        fields: {
          account: 'string',
          region: 'string',
          status: { enum: ['CURRENT', 'OUTDATED', 'INOPERABLE'] }
        },
        required: ['account']
      }
    }
  },
  required: ['name']
}

const worldSchema: Schema = {
  fields: {
    description: 'string',
    organizationId: 'string',
    managementAccountId: 'string',
    rootId: 'string',
    seed: 'number',
    now: 'string',
    central: { fields: { accountId: 'string', roleName: 'string' } },
    bootstrap: {
      fields: {
        central: stringRecord,
        listAccounts: stringRecord,
        member: stringRecord,
        secretsKey: {
          fields: { accountId: 'string', parameters: stringRecord, replicaRegions: strings },
          required: ['accountId']
        },
        templates: stringRecord
      }
    },
    memberRoleName: 'string',
    listAccountsRoleName: 'string',
    listAccountsRole: 'boolean',
    organizationalUnits: {
      arrayOf: { fields: { id: 'string', name: 'string', parentId: 'string' }, required: ['id'] }
    },
    accounts: { arrayOf: account },
    ses: {
      fields: { verifiedIdentities: strings, max24HourSend: 'number', maxSendRate: 'number' }
    },
    pageSizes: {
      fields: {
        organizations: 'number',
        iam: 'number',
        secretsmanager: 'number',
        cloudformation: 'number'
      }
    },
    cloudformation: {
      fields: {
        failInstanceAccounts: strings,
        inoperableInstanceAccounts: strings,
        stackSets: { arrayOf: stackSet }
      }
    },
    faults: faultsSchema
  },
  required: ['organizationId', 'managementAccountId']
}

export class WorldError extends Error {
  override name = 'WorldError'
}

/** Checks an untrusted value (parsed JSON) and returns it typed as a World. */
export function parseWorld(value: unknown, source = 'world'): World {
  const problem = check(value, worldSchema, source)
  if (problem) throw new WorldError(problem)
  const world = value as World
  if (world.now !== undefined && Number.isNaN(Date.parse(world.now))) {
    throw new WorldError(`${source}.now must be an ISO date`)
  }
  const ids = new Set<string>()
  for (const [i, entry] of (world.accounts ?? []).entries()) {
    if (ids.has(entry.id))
      throw new WorldError(`${source}.accounts[${i}].id ${entry.id} is repeated`)
    ids.add(entry.id)
  }
  return world
}

export function parseFaults(value: unknown, source = 'faults'): Faults {
  const problem = check(value, faultsSchema, source)
  if (problem) throw new WorldError(problem)
  return value as Faults
}

/** Reads and checks a world JSON file. */
export async function loadWorldFile(path: string): Promise<World> {
  const text = await readFile(path, 'utf8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new WorldError(`${path} is not valid JSON: ${(error as Error).message}`)
  }
  return parseWorld(parsed, path)
}
