import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import {
  DescribeKeyCommand,
  GetPublicKeyCommand,
  SignCommand,
  type KMSClient
} from '@aws-sdk/client-kms'
import type { RecordClaim } from '../policy/index.js'
import type { TaggedRecord } from '../scan/lifecycle-tags.js'

// Authenticated state. Every lifecycle record and every secret marker the tool writes is signed
// with an asymmetric KMS key in the central account (cfn/central-github-oidc.yaml, StateSigningKey,
// alias/iam-key-rotation-state). Only the write role may call kms:Sign; every role may read the
// public key, and verification happens here, in memory:
//
// - cost: one GetPublicKey and one DescribeKey per run, however many records are read, and one
//   kms:Sign per record written (a rotation writes four); at 5,000 accounts a run's reads cost
//   nothing more, where a MAC key would cost one KMS call per record read;
// - privilege: an audit or dry run can verify but never forge, which a shared MAC key cannot give;
// - a lost key (disabled, or deleted after its waiting period) stops every run at startup. Records
//   signed by an earlier key are not state (STATE_TAMPERED): nothing is deleted or deactivated on
//   them, inactive keys restart their recovery clocks and rotations under way turn into conflicts.
//   That is safe but loud, so the key is kept, not rotated (KMS cannot rotate signing keys).

const SIGNING_ALGORITHM = 'ECDSA_SHA_256'
const FORMAT = 'v2'

/** What one record signature covers: the record itself, and whose key it is about. */
export function recordMessage(
  accountId: string,
  userName: string,
  accessKeyId: string,
  value: string
): string {
  return `iam-key-rotation record ${FORMAT}\naccount=${accountId}\nuser=${userName}\nkey=${accessKeyId}\nrecord=${value}`
}

/**
 * What a secret's marker covers: this tool created this secret, for this user, at this time.
 * The time ties the marker to one secret: copied onto a secret made later under the same name
 * (the tool's deleted, a look-alike created), it no longer matches that secret's CreatedDate.
 */
export function secretMarkerMessage(
  accountId: string,
  userName: string,
  secretName: string,
  createdAt: string
): string {
  return `iam-key-rotation secret ${FORMAT}\naccount=${accountId}\nuser=${userName}\nsecret=${secretName}\ncreated=${createdAt}`
}

/** The marker tag value: the creation time it vouches for, then the signature. */
export function markerValue(createdAt: string, signature: string): string {
  return `${createdAt} ${signature}`
}

/** A marker tag value split into the creation time it names and its signature. */
export function parseMarker(
  value: string | undefined
): { createdAt: string; signature: string } | undefined {
  if (value === undefined) return undefined
  const space = value.indexOf(' ')
  if (space <= 0) return undefined
  return { createdAt: value.slice(0, space), signature: value.slice(space + 1) }
}

export interface StateVerifier {
  /** The key's id (a UUID) and ARN, for messages. */
  readonly keyId: string
  readonly keyArn: string
  /** When the key was created: signed state began then, so no unsigned record is newer. */
  readonly createdAt: Date
  /** undefined when `signature` is this key's valid signature of `message`; else what failed. */
  check(message: string, signature: string | undefined): string | undefined
}

export interface StateSigner {
  /** The signature tag value for `message`: `v2 <key id> <base64 DER ECDSA signature>`. */
  sign(message: string): Promise<string>
}

export class StateKeyError extends Error {
  override name = 'StateKeyError'
}

/**
 * Reads the state key once: its public key (to verify locally) and its creation date (the
 * migration window starts there). Fails with a message naming the input when it is unusable.
 */
export async function loadStateKey(
  kms: KMSClient,
  keyRef: string,
  inputName: string
): Promise<StateVerifier & StateSigner> {
  let described
  let publicKey
  try {
    described = (await kms.send(new DescribeKeyCommand({ KeyId: keyRef }))).KeyMetadata
    publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: keyRef }))
  } catch (error) {
    throw new StateKeyError(
      `${inputName} "${keyRef}": the state signing key cannot be read (${error instanceof Error ? error.message : String(error)}). ` +
        'Deploy cfn/central-github-oidc.yaml at TemplateVersion 4 or later (it creates alias/iam-key-rotation-state), ' +
        'or set the input to the key that signs this tool’s records.',
      { cause: error }
    )
  }
  const keyId = described?.KeyId ?? ''
  const keyArn = described?.Arn ?? keyRef
  if (
    described?.KeyState !== 'Enabled' ||
    described.KeyUsage !== 'SIGN_VERIFY' ||
    !publicKey.PublicKey ||
    !(publicKey.SigningAlgorithms ?? []).includes(SIGNING_ALGORITHM)
  ) {
    throw new StateKeyError(
      `${inputName} "${keyRef}": ${keyArn} is not an enabled ${SIGNING_ALGORITHM} signing key (state ${described?.KeyState ?? 'unknown'}, usage ${described?.KeyUsage ?? 'unknown'}).`
    )
  }
  return {
    ...stateVerifier(keyId, keyArn, described.CreationDate ?? new Date(0), publicKey.PublicKey),
    sign: async message => {
      const signed = await kms.send(
        new SignCommand({
          KeyId: keyArn,
          Message: Buffer.from(message, 'utf8'),
          MessageType: 'RAW',
          SigningAlgorithm: SIGNING_ALGORITHM
        })
      )
      if (!signed.Signature) throw new Error(`kms:Sign with ${keyArn} returned no signature`)
      return signatureValue(keyId, signed.Signature)
    }
  }
}

/** Verifies signatures of `keyId` locally, with its public key (DER SubjectPublicKeyInfo). */
export function stateVerifier(
  keyId: string,
  keyArn: string,
  createdAt: Date,
  publicKeyDer: Uint8Array
): StateVerifier {
  const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' })
  return {
    keyId,
    keyArn,
    createdAt,
    check: (message, signature) => checkSignature(key, keyId, message, signature)
  }
}

/** The signature tag value: `v2 <key id> <base64 DER ECDSA signature>`. */
export function signatureValue(keyId: string, derSignature: Uint8Array): string {
  return `${FORMAT} ${keyId} ${Buffer.from(derSignature).toString('base64')}`
}

function checkSignature(
  key: KeyObject,
  keyId: string,
  message: string,
  signature: string | undefined
): string | undefined {
  if (signature === undefined) return 'it is not signed'
  const [format, signedBy, encoded, ...rest] = signature.split(' ')
  if (format !== FORMAT || !signedBy || !encoded || rest.length > 0) {
    return 'its signature is malformed'
  }
  if (signedBy !== keyId)
    return `it is signed by KMS key ${signedBy}, not by the state key ${keyId}`
  let valid: boolean
  try {
    valid = verify('sha256', Buffer.from(message, 'utf8'), key, Buffer.from(encoded, 'base64'))
  } catch {
    valid = false
  }
  return valid
    ? undefined
    : 'its signature does not verify: the record was changed, or copied from another key or user'
}

/**
 * Where a record came from: signed by the state key, unsigned (as versions before 0.2.0 wrote
 * them: `trustRecords` decides how much of it to believe), or a signature that failed.
 */
export function claimOf(
  verifier: StateVerifier,
  subject: { accountId: string; userName: string; accessKeyId: string },
  tagged: TaggedRecord
): RecordClaim {
  const message = recordMessage(
    subject.accountId,
    subject.userName,
    subject.accessKeyId,
    tagged.value
  )
  const problem = verifier.check(message, tagged.signature)
  if (problem === undefined) return { origin: 'signed', record: tagged.record }
  return tagged.signature === undefined
    ? { origin: 'legacy', record: tagged.record }
    : { origin: 'unverified', problem }
}
