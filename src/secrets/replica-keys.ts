// Which KMS key encrypts each replica of a secret. KMS keys are regional: Secrets Manager can
// only encrypt a replica with a key of the replica's own region. Pure: the inputs decide, the
// check against KMS (replica-key-check.ts) confirms what was derived.

/** A multi-Region key's id: replicas of it share the id, in every region. */
const MULTI_REGION_KEY_ID = /^mrk-[0-9a-f]{32}$/
const KEY_ARN = /^arn:(aws(?:-cn|-us-gov)?):kms:([a-z0-9-]+):(\d{12}):key\/([a-zA-Z0-9-]+)$/

export interface ReplicaKey {
  readonly region: string
  /** The key for the replica; undefined: aws/secretsmanager of that region. */
  readonly kmsKeyId?: string
  /**
   * Where it came from: `replica-kms-key-ids`, the multi-Region `kms-key-id` (its replica in that
   * region, which must exist: checked before writing), or no kms-key-id at all.
   */
  readonly source: 'replica-kms-key-ids' | 'multi-region-key' | 'aws-managed'
}

/** The parts of a key ARN; undefined for anything else (a bare id, an alias). */
export function parseKeyArn(
  value: string
): { partition: string; region: string; account: string; keyId: string } | undefined {
  const match = KEY_ARN.exec(value)
  if (!match) return undefined
  const [, partition = '', region = '', account = '', keyId = ''] = match
  return { partition, region, account, keyId }
}

/** Whether `kmsKeyId` names a multi-Region key: `mrk-…`, bare or as a key ARN. */
export function isMultiRegionKey(kmsKeyId: string): boolean {
  return MULTI_REGION_KEY_ID.test(parseKeyArn(kmsKeyId)?.keyId ?? kmsKeyId)
}

/**
 * The replica of a multi-Region key in `region`: the same account and key id, the region
 * replaced; a bare `mrk-` id stays as it is (it names the replica in the region it is used in).
 * undefined when `kmsKeyId` is not a multi-Region key.
 */
export function multiRegionReplicaKeyId(kmsKeyId: string, region: string): string | undefined {
  if (!isMultiRegionKey(kmsKeyId)) return undefined
  const arn = parseKeyArn(kmsKeyId)
  if (!arn) return kmsKeyId
  return `arn:${arn.partition}:kms:${region}:${arn.account}:key/${arn.keyId}`
}

/**
 * Each replica region's key: a `replica-kms-key-ids` pair wins; else the multi-Region key's
 * replica; else, without kms-key-id, the AWS managed key (it exists in every region). `lacking`
 * lists the regions left without a key: a single-region key or an alias cannot serve them.
 */
export function replicaKeysFor(
  kmsKeyId: string | undefined,
  replicaRegions: readonly string[],
  explicit: Readonly<Record<string, string>>
): { keys: ReplicaKey[]; lacking: string[] } {
  const keys: ReplicaKey[] = []
  const lacking: string[] = []
  for (const region of replicaRegions) {
    const given = Object.hasOwn(explicit, region) ? explicit[region] : undefined
    if (given !== undefined) {
      keys.push({ region, kmsKeyId: given, source: 'replica-kms-key-ids' })
      continue
    }
    if (kmsKeyId === undefined) {
      keys.push({ region, source: 'aws-managed' })
      continue
    }
    const derived = multiRegionReplicaKeyId(kmsKeyId, region)
    if (derived === undefined) lacking.push(region)
    else keys.push({ region, kmsKeyId: derived, source: 'multi-region-key' })
  }
  return { keys, lacking }
}

/** region → key of the replicas that name one (the AWS managed key's regions are left out). */
export function replicaKeyMap(keys: readonly ReplicaKey[]): Record<string, string> {
  const map: Record<string, string> = {}
  for (const key of keys) if (key.kmsKeyId !== undefined) map[key.region] = key.kmsKeyId
  return map
}
