import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms'
import { awsErrorCode, errorMessage } from '../util/errors.js'
import type { ReplicaKey } from './replica-keys.js'

/**
 * Whether each replica key derived from a multi-Region kms-key-id exists in its region, asked of
 * KMS by the role that writes the secrets (kms:DescribeKey, one call per replica region). Keys of
 * replica-kms-key-ids are named by the user and checked by Secrets Manager when it replicates
 * (a Failed replica stops the write, see store.ts); the AWS managed key exists everywhere.
 * Returns undefined when every derived key is there and enabled, else what is wrong and how to
 * fix it, naming the region, the key and the inputs.
 */
export async function replicaKeyProblem(
  kmsIn: (region: string) => KMSClient,
  keys: readonly ReplicaKey[],
  context: { readonly kmsKeyId: string; readonly writer: string }
): Promise<string | undefined> {
  const problems: string[] = []
  for (const key of keys) {
    if (key.source !== 'multi-region-key' || key.kmsKeyId === undefined) continue
    const { region, kmsKeyId } = key
    let why: string | undefined
    try {
      const described = await kmsIn(region).send(new DescribeKeyCommand({ KeyId: kmsKeyId }))
      const state = described.KeyMetadata?.KeyState
      if (state !== undefined && state !== 'Enabled') why = `it is ${state}`
    } catch (error) {
      why =
        awsErrorCode(error) === 'NotFoundException'
          ? 'KMS has no such key in that region'
          : `KMS answered ${errorMessage(error)}`
    }
    if (why !== undefined) {
      problems.push(
        `kms-key-id ${context.kmsKeyId} is a multi-Region key, but its replica in ${region}, ${kmsKeyId}, cannot be used: ${why} (asked as ${context.writer}). ` +
          `Replicate the key to ${region} (aws kms replicate-key --key-id ${context.kmsKeyId} --replica-region ${region}, with the primary's key policy), ` +
          `name a key of ${region} in replica-kms-key-ids ("${region}=arn:aws:kms:${region}:ACCOUNT:key/ID"), or remove ${region} from secret-replica-regions`
      )
    }
  }
  return problems.length > 0 ? problems.join('. ') : undefined
}
