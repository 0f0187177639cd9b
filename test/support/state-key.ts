import { generateKeyPairSync, sign, verify } from 'node:crypto'
import type { StateSigner, StateVerifier } from '../../src/state/signing.js'

// A state key in memory, for unit tests that need to sign or verify records without KMS. The
// end-to-end tests use the emulator's KMS key from the central stack instead.

export function localStateKey(
  createdAt = new Date(0),
  keyId = 'test-state-key'
): StateVerifier & StateSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return {
    keyId,
    keyArn: `arn:aws:kms:us-east-1:999999999999:key/${keyId}`,
    check(message, signature) {
      if (signature === undefined) return 'it is not signed'
      const [, signedBy, encoded] = signature.split(' ')
      if (signedBy !== keyId || !encoded) return 'its signature is malformed'
      return verify('sha256', Buffer.from(message), publicKey, Buffer.from(encoded, 'base64'))
        ? undefined
        : 'its signature does not verify'
    },
    sign: message =>
      Promise.resolve(
        `v2 ${keyId} ${sign('sha256', Buffer.from(message), privateKey).toString('base64')}`
      )
  }
}

/** For code paths that must never verify anything. */
export const unusedVerifier: StateVerifier = {
  keyId: 'unused',
  keyArn: 'unused',
  check: () => {
    throw new Error('unused')
  }
}
