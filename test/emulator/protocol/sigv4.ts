/** The parts of a SigV4 credential scope the emulator routes by. */
export interface CredentialScope {
  accessKeyId: string
  region: string
  /** Signing name: iam, sts, organizations, secretsmanager, cloudformation, kms, ses (or email). */
  service: string
}

const CREDENTIAL_PATTERN = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/

/** Reads `Credential=AKID/DATE/REGION/SERVICE/aws4_request`; the signature itself is not checked. */
export function parseCredentialScope(
  authorization: string | undefined
): CredentialScope | undefined {
  if (authorization === undefined) return undefined
  const match = CREDENTIAL_PATTERN.exec(authorization)
  if (!match) return undefined
  const [, accessKeyId = '', region = '', service = ''] = match
  return { accessKeyId, region, service }
}
