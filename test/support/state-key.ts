import { generateKeyPairSync, sign } from 'node:crypto'
import {
  signatureValue,
  stateVerifier,
  type StateSigner,
  type StateVerifier
} from '../../src/state/signing.js'

// A state key in memory, for unit tests that sign or verify records without KMS: the action's
// own verifier, with a local P-256 key pair. The end-to-end tests use the emulator's KMS key.

export function localStateKey(keyId = 'test-state-key'): StateVerifier & StateSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return {
    ...stateVerifier(
      keyId,
      `arn:aws:kms:us-east-1:999999999999:key/${keyId}`,
      new Date(0),
      publicKey.export({ format: 'der', type: 'spki' })
    ),
    sign: message =>
      Promise.resolve(signatureValue(keyId, sign('sha256', Buffer.from(message), privateKey)))
  }
}

/** For code paths that must never verify anything. */
export const unusedVerifier: StateVerifier = {
  keyId: 'unused',
  keyArn: 'unused',
  createdAt: new Date(0),
  check: () => {
    throw new Error('unused')
  }
}
