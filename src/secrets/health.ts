import { parseMarker, secretMarkerMessage, type StateVerifier } from '../state/signing.js'

// Is the user's secret the tool's, and is it still as the tool made it? Pure: the store reads,
// this judges, the apply phase repairs. Anyone with Secrets Manager rights in the account may
// have created, re-created or changed the secret, so nothing read here is taken on trust.

/** The tool's signed statement that it created the secret (src/state/signing.ts). */
export const SECRET_MARKER_TAG = 'iam-key-rotation:marker'

/** A marker and its secret's CreatedDate agree within this margin (the tool's clock reading). */
const MARKER_DATE_TOLERANCE_MS = 5 * 60_000

/** A user's secret as read back (`SecretStore.inspect`). */
export interface SecretSnapshot {
  readonly name: string
  readonly arn: string
  readonly createdAt?: Date
  /** The KMS key as Secrets Manager names it; undefined: aws/secretsmanager. */
  readonly kmsKeyId?: string
  /** When someone scheduled it for deletion; undefined: it is not. */
  readonly deletedAt?: Date
  readonly tags: ReadonlyMap<string, string>
  /** The resource policy's JSON text; undefined: none. */
  readonly resourcePolicy?: string
  readonly replicas: readonly SecretReplica[]
  /** The version id holding AWSCURRENT (it names the key since 0.2.0), if any. */
  readonly currentVersionId?: string
}

export interface SecretReplica {
  readonly region: string
  readonly kmsKeyId?: string
  /** InSync, Failed or InProgress. */
  readonly status?: string
}

/** What the secret must be like for this user. */
export interface SecretExpectation {
  readonly accountId: string
  readonly userName: string
  readonly userArn: string
  /** `kms-key-id`; undefined: aws/secretsmanager. */
  readonly kmsKeyId?: string
  readonly replicaRegions: readonly string[]
  /**
   * Each replica region's key (KMS keys are regional: replica-keys.ts); a region not named here
   * has aws/secretsmanager.
   */
  readonly replicaKmsKeyIds: Readonly<Record<string, string>>
  /** Whether the user has iam-key-rotation-read-own-secret attached. */
  readonly readGrantAttached: boolean
  /**
   * When signed state began: a secret created before it without a marker was made by 0.1.0 (or
   * by someone 0.1.0 would have written into anyway) and is adopted, never one created since.
   */
  readonly signedStateSince?: Date
}

/** One way a secret differs from what the tool made, and the call that puts it right. */
export type SecretRepair =
  | { readonly kind: 'restore' }
  | { readonly kind: 'resource-policy' }
  | { readonly kind: 'kms-key' }
  | {
      readonly kind: 'replicas'
      readonly add: readonly string[]
      readonly remove: readonly string[]
    }
  | { readonly kind: 'read-grant' }
  | { readonly kind: 'marker' }

export interface SecretProblem {
  /** What is wrong, in words a person can check. */
  readonly problem: string
  /** What the tool does about it. */
  readonly remedy: string
  readonly repair: SecretRepair
}

export type SecretCheck =
  | { readonly owned: false; readonly reason: string }
  | { readonly owned: true; readonly problems: readonly SecretProblem[] }

/** Whether the tool made this secret, and every way it has drifted since. */
export function checkSecret(
  snapshot: SecretSnapshot,
  expected: SecretExpectation,
  verifier: StateVerifier
): SecretCheck {
  const ownership = ownershipOf(snapshot, expected, verifier)
  if (ownership.kind === 'foreign') return { owned: false, reason: ownership.reason }
  const problems: SecretProblem[] = []
  // First: nothing else can be changed on a secret scheduled for deletion.
  if (snapshot.deletedAt) {
    problems.push({
      problem: `secret ${snapshot.name} was scheduled for deletion on ${snapshot.deletedAt.toISOString()}: its user loses its key when the recovery window ends`,
      remedy: 'restore it (RestoreSecret)',
      repair: { kind: 'restore' }
    })
  }
  if (ownership.kind === 'adopt') {
    problems.push({
      problem: `secret ${snapshot.name} has no marker: it was made before signed state began (by version 0.1.0)`,
      remedy: "add the tool's signed marker",
      repair: { kind: 'marker' }
    })
  }
  const expectedPolicy = readOnlyByUserPolicy(expected.userArn)
  if (snapshot.resourcePolicy === undefined) {
    problems.push({
      problem: `secret ${snapshot.name} has no resource policy: anyone in its account allowed secretsmanager:GetSecretValue can read it`,
      remedy: 'put back the owner-only resource policy (public policies blocked)',
      repair: { kind: 'resource-policy' }
    })
  } else if (!samePolicy(snapshot.resourcePolicy, expectedPolicy)) {
    problems.push({
      problem: `secret ${snapshot.name} has a resource policy other than the owner-only one: it may let others read the key`,
      remedy: 'put back the owner-only resource policy (public policies blocked)',
      repair: { kind: 'resource-policy' }
    })
  }
  const home = homeOf(snapshot.arn)
  if (!sameKmsKey(expected.kmsKeyId, snapshot.kmsKeyId, home)) {
    problems.push({
      problem: `secret ${snapshot.name} is encrypted with ${snapshot.kmsKeyId ?? 'aws/secretsmanager'}, not with ${expected.kmsKeyId ?? 'aws/secretsmanager'} (kms-key-id)`,
      remedy: `encrypt it with ${expected.kmsKeyId ?? 'aws/secretsmanager'} again (a person must, if the role may not decrypt with the other key)`,
      repair: { kind: 'kms-key' }
    })
  }
  const replicas = replicaRepair(snapshot, expected)
  if (replicas) problems.push(replicas)
  if (!expected.readGrantAttached) {
    problems.push({
      problem: `${READ_OWN_SECRET_POLICY_NAME} is not attached to ${expected.userName}, so it may not be able to read its secret`,
      remedy: `attach ${READ_OWN_SECRET_POLICY_NAME}`,
      repair: { kind: 'read-grant' }
    })
  }
  return { owned: true, problems }
}

/** The customer-managed policy (cfn/member-role.yaml) that lets a user read its own secret. */
export const READ_OWN_SECRET_POLICY_NAME = 'iam-key-rotation-read-own-secret'

export function readOwnSecretPolicyArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:policy/${READ_OWN_SECRET_POLICY_NAME}`
}

type Ownership = { kind: 'owned' } | { kind: 'adopt' } | { kind: 'foreign'; reason: string }

function ownershipOf(
  snapshot: SecretSnapshot,
  expected: SecretExpectation,
  verifier: StateVerifier
): Ownership {
  const foreign = (why: string): Ownership => ({
    kind: 'foreign',
    reason: `secret ${snapshot.name} was not created by this tool: ${why}`
  })
  const tag = snapshot.tags.get(SECRET_MARKER_TAG)
  if (tag === undefined) {
    const since = expected.signedStateSince
    const before = snapshot.createdAt && since && snapshot.createdAt.getTime() < since.getTime()
    return before ? { kind: 'adopt' } : foreign(`it has no marker (${SECRET_MARKER_TAG})`)
  }
  const marker = parseMarker(tag)
  if (!marker) return foreign('its marker is malformed')
  const problem = verifier.check(
    secretMarkerMessage(expected.accountId, expected.userName, snapshot.name, marker.createdAt),
    marker.signature
  )
  if (problem !== undefined) return foreign(`its marker failed verification (${problem})`)
  const markedAt = Date.parse(marker.createdAt)
  if (
    !snapshot.createdAt ||
    Number.isNaN(markedAt) ||
    Math.abs(markedAt - snapshot.createdAt.getTime()) > MARKER_DATE_TOLERANCE_MS
  ) {
    return foreign(
      `its marker belongs to a secret created ${marker.createdAt}, but this one was created ${snapshot.createdAt?.toISOString() ?? 'at an unknown time'} (deleted and made again under the same name)`
    )
  }
  return { kind: 'owned' }
}

/** Replicas where `secret-replica-regions` says, each with its region's key; no others. */
function replicaRepair(
  snapshot: SecretSnapshot,
  expected: SecretExpectation
): SecretProblem | undefined {
  const wanted = new Set(expected.replicaRegions)
  const home = homeOf(snapshot.arn)
  const byRegion = new Map(snapshot.replicas.map(replica => [replica.region, replica]))
  const remove: string[] = []
  const add: string[] = []
  const found: string[] = []
  for (const replica of snapshot.replicas) {
    if (!wanted.has(replica.region)) {
      remove.push(replica.region)
      found.push(`an unexpected replica in ${replica.region}`)
    } else if (
      !sameKmsKey(expectedReplicaKey(expected, replica.region), replica.kmsKeyId, {
        ...home,
        region: replica.region
      })
    ) {
      remove.push(replica.region)
      add.push(replica.region)
      found.push(
        `a replica in ${replica.region} encrypted with ${replica.kmsKeyId ?? 'aws/secretsmanager'}, not with ${expectedReplicaKey(expected, replica.region) ?? 'aws/secretsmanager'}`
      )
    } else if (replica.status === 'Failed') {
      remove.push(replica.region)
      add.push(replica.region)
      found.push(`a failed replica in ${replica.region}`)
    }
  }
  for (const region of wanted) {
    if (!byRegion.has(region)) {
      add.push(region)
      found.push(`no replica in ${region}`)
    }
  }
  if (found.length === 0) return undefined
  return {
    problem: `secret ${snapshot.name} has ${found.join(', ')} (secret-replica-regions: ${expected.replicaRegions.join(', ') || 'none'})`,
    remedy: [
      remove.length > 0 ? `remove the replicas in ${remove.join(', ')}` : '',
      add.length > 0 ? `replicate to ${add.join(', ')}` : ''
    ]
      .filter(Boolean)
      .join(', then '),
    repair: { kind: 'replicas', add, remove }
  }
}

/** The key a replica in `region` must have: its region's own (undefined: aws/secretsmanager). */
function expectedReplicaKey(expected: SecretExpectation, region: string): string | undefined {
  const map = expected.replicaKmsKeyIds
  return Object.hasOwn(map, region) ? map[region] : undefined
}

/** The account and region a secret lives in, from its ARN. */
function homeOf(secretArn: string): KmsHome {
  const match = /^arn:[^:]+:secretsmanager:([^:]*):(\d{12}):/.exec(secretArn)
  return { region: match?.[1] ?? '', account: match?.[2] ?? '' }
}

export interface KmsHome {
  readonly account: string
  readonly region: string
}

/**
 * Whether two ways of naming a KMS key name the same one, for a secret in `home`. Two ARNs
 * must be equal; a bare key id or alias name means the key of that name in the secret's own
 * account and region, so it equals an ARN only there. undefined, the alias aws/secretsmanager
 * and its ARN are the AWS managed key. An alias against a key id cannot be told apart here:
 * that is drift.
 */
export function sameKmsKey(a: string | undefined, b: string | undefined, home: KmsHome): boolean {
  const x = parseKmsId(a)
  const y = parseKmsId(b)
  if (x === undefined || y === undefined) return x === y
  if (x.tail !== y.tail) return false
  const where = (id: ParsedKmsId) => id.at ?? `${home.region}:${home.account}`
  return where(x) === where(y)
}

interface ParsedKmsId {
  /** `key/…` or `alias/…`. */
  readonly tail: string
  /** `region:account` of an ARN; undefined for a bare id. */
  readonly at?: string
}

/** undefined for the AWS managed key. */
function parseKmsId(id: string | undefined): ParsedKmsId | undefined {
  if (id === undefined || id === '') return undefined
  const arn = /^arn:[^:]+:kms:([^:]*):(\d{12}):(.+)$/.exec(id)
  const rest = arn?.[3] ?? id
  const tail = rest.startsWith('alias/') || rest.startsWith('key/') ? rest : `key/${rest}`
  if (tail === 'alias/aws/secretsmanager') return undefined
  return arn ? { tail, at: `${arn[1]}:${arn[2]}` } : { tail }
}

/**
 * The secret's resource policy: the user may read it; every other principal is denied reading
 * the value, administrators included (they can still change the policy, which CloudTrail records
 * and the next run puts back).
 */
export function readOnlyByUserPolicy(userArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OwnerReads',
        Effect: 'Allow',
        Principal: { AWS: userArn },
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: '*'
      },
      {
        Sid: 'NobodyElseReads',
        Effect: 'Deny',
        Principal: '*',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': userArn } }
      }
    ]
  }
}

/** The same policy, whatever the whitespace, key order, or a lone string written as a list. */
function samePolicy(text: string, expected: unknown): boolean {
  let actual: unknown
  try {
    actual = JSON.parse(text)
  } catch {
    return false
  }
  return canonical(actual) === canonical(expected)
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    const items = value.map(canonical)
    return items.length === 1 ? (items[0] ?? '') : `[${items.sort().join(',')}]`
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    )
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}
