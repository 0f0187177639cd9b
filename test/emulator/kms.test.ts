import { createHash, verify as verifySignature } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import {
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  VerifyCommand
} from '@aws-sdk/client-kms'
import { AssumeRoleCommand } from '@aws-sdk/client-sts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PERMISSION_LOG_ENV } from './authz/authorize.js'
import { rootCredentials } from './callers.js'
import { startEmulator, type Emulator } from './index.js'
import { adminClients, asIdentity, clients, NOW, rejection, testWorld } from './support.js'

const OWNER = '222222222222'
const PARTNER = '333333333333'
const ALIAS = 'alias/kms-test-state'

/** A role the account's administrator may assume, with an optional inline policy. */
const role = (name: string, statements: string[] = []): string => `
  ${name}:
    Type: AWS::IAM::Role
    Properties:
      RoleName: ${name}
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: { AWS: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root' }
            Action: sts:AssumeRole
${
  statements.length === 0
    ? ''
    : `      Policies:
        - PolicyName: kms
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
${statements.map(statement => `              - ${statement}`).join('\n')}`
}`

/**
 * The shapes of cfn/central-github-oidc.yaml's state signing key (its key policy as written
 * there), with test roles in place of the project's, a second key that leaves signing to IAM
 * policies, and a symmetric key with the default key policy.
 */
const TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  PartnerAccountId: { Type: String }
Resources:
${role('KmsWriteRole')}
${role('KmsAuditRole')}
${role('KmsDryRunRole', ["{ Effect: Deny, Action: kms:GetPublicKey, Resource: '*' }"])}
${role('KmsAdminRole', ["{ Effect: Allow, Action: 'kms:*', Resource: '*' }"])}
${role('KmsOutsiderRole')}
  TestSigningKey:
    Type: AWS::KMS::Key
    Properties:
      Description: Signs the rotation state.
      KeySpec: ECC_NIST_P256
      KeyUsage: SIGN_VERIFY
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Sid: AccountAdministers
            Effect: Allow
            Principal: { AWS: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root' }
            Action: [kms:Describe*, kms:Get*, kms:List*, kms:Put*, kms:Update*, kms:Enable*, kms:Disable*, kms:Revoke*, kms:TagResource, kms:UntagResource, kms:ScheduleKeyDeletion, kms:CancelKeyDeletion, kms:CreateAlias, kms:DeleteAlias]
            Resource: '*'
          - Sid: OnlyTheWriteRoleSigns
            Effect: Allow
            Principal: { AWS: !GetAtt KmsWriteRole.Arn }
            Action: kms:Sign
            Resource: '*'
            Condition: { StringEquals: { kms:SigningAlgorithm: ECDSA_SHA_256 } }
          - Sid: EveryToolRoleVerifies
            Effect: Allow
            Principal: { AWS: [!GetAtt KmsWriteRole.Arn, !GetAtt KmsAuditRole.Arn, !GetAtt KmsDryRunRole.Arn] }
            Action: [kms:GetPublicKey, kms:DescribeKey]
            Resource: '*'
  TestSigningKeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: ${ALIAS}
      TargetKeyId: !Ref TestSigningKey
  DelegatedKey:
    Type: AWS::KMS::Key
    Properties:
      KeySpec: ECC_NIST_P256
      KeyUsage: SIGN_VERIFY
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Sid: AccountDecides
            Effect: Allow
            Principal: { AWS: !Ref AWS::AccountId }
            Action: kms:*
            Resource: '*'
          - Sid: NoDigests
            Effect: Deny
            Principal: { AWS: '*' }
            Action: kms:Sign
            Resource: '*'
            Condition: { StringEquals: { kms:MessageType: DIGEST } }
          - Sid: PartnerRolesDescribe
            Effect: Allow
            Principal: { AWS: !Sub 'arn:aws:iam::\${PartnerAccountId}:root' }
            Action: kms:DescribeKey
            Resource: '*'
            Condition:
              StringEquals: { kms:CallerAccount: !Ref PartnerAccountId }
              ArnLike: { aws:PrincipalArn: !Sub 'arn:aws:iam::\${PartnerAccountId}:role/kms-partner-*' }
  SymmetricKey:
    Type: AWS::KMS::Key
    Properties:
      Description: The default key spec and key policy.
  DisabledKey:
    Type: AWS::KMS::Key
    Properties:
      KeySpec: ECC_NIST_P256
      KeyUsage: SIGN_VERIFY
      Enabled: false
Outputs:
  StateKeyArn: { Value: !GetAtt TestSigningKey.Arn }
  StateKeyId: { Value: !Ref TestSigningKey }
  DelegatedKeyArn: { Value: !GetAtt DelegatedKey.Arn }
  SymmetricKeyArn: { Value: !GetAtt SymmetricKey.Arn }
  DisabledKeyArn: { Value: !GetAtt DisabledKey.Arn }
`

const PARTNER_TEMPLATE = `
Resources:
${role('kms-partner-reader', ["{ Effect: Allow, Action: kms:DescribeKey, Resource: '*' }"])}
${role('kms-partner-nothing')}
${role('kms-stranger', ["{ Effect: Allow, Action: kms:DescribeKey, Resource: '*' }"])}
`

/** The test's own SDK user agent stands for the action's, for the permission log. */
const ACTION_APP_ID = 'iam-key-rotation-action'

describe('KMS', () => {
  let emulator: Emulator
  let outputs: Record<string, string>

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(async () => {
    emulator.loadWorld(testWorld())
    const owner = adminClients(emulator, OWNER).cloudformation
    await owner.send(
      new CreateStackCommand({
        StackName: 'kms-test',
        TemplateBody: TEMPLATE,
        Parameters: [{ ParameterKey: 'PartnerAccountId', ParameterValue: PARTNER }]
      })
    )
    const described = await owner.send(new DescribeStacksCommand({ StackName: 'kms-test' }))
    const stack = described.Stacks?.[0]
    expect(stack?.StackStatus, stack?.StackStatusReason).toBe('CREATE_COMPLETE')
    outputs = Object.fromEntries(
      (stack?.Outputs ?? []).map(output => [output.OutputKey ?? '', output.OutputValue ?? ''])
    )
    await adminClients(emulator, PARTNER).cloudformation.send(
      new CreateStackCommand({ StackName: 'kms-partner', TemplateBody: PARTNER_TEMPLATE })
    )
  })

  /** A KMS client acting as a role of the template, through AssumeRole by the account's root. */
  async function kmsAs(roleName: string, accountId = OWNER): Promise<KMSClient> {
    const { sts } = clients(emulator, { credentials: rootCredentials(accountId) })
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accountId}:role/${roleName}`,
        RoleSessionName: 'kms-test'
      })
    )
    return new KMSClient({
      region: 'us-east-1',
      endpoint: emulator.url,
      credentials: asIdentity(assumed.Credentials),
      maxAttempts: 1,
      userAgentAppId: ACTION_APP_ID
    })
  }

  const keyArn = (): string => outputs['StateKeyArn'] ?? ''
  const message = new TextEncoder().encode('{"state":"signed"}')

  it('creates the key from the template: ARN and id outputs, alias, metadata', async () => {
    expect(keyArn()).toMatch(/^arn:aws:kms:us-east-1:222222222222:key\/[0-9a-f-]{36}$/)
    expect(keyArn()).toBe(`arn:aws:kms:us-east-1:${OWNER}:key/${outputs['StateKeyId']}`)
    const kms = await kmsAs('KmsAuditRole')
    const described = await kms.send(new DescribeKeyCommand({ KeyId: ALIAS }))
    expect(described.KeyMetadata).toEqual({
      AWSAccountId: OWNER,
      KeyId: outputs['StateKeyId'],
      Arn: keyArn(),
      CreationDate: expect.any(Date) as Date,
      Enabled: true,
      Description: 'Signs the rotation state.',
      KeyUsage: 'SIGN_VERIFY',
      KeyState: 'Enabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'ECC_NIST_P256',
      KeySpec: 'ECC_NIST_P256',
      SigningAlgorithms: ['ECDSA_SHA_256'],
      MultiRegion: false
    })
    // On the emulator clock: the world's now, give or take the time the test took.
    const created = described.KeyMetadata?.CreationDate?.getTime() ?? 0
    expect(created - new Date(NOW).getTime()).toBeGreaterThanOrEqual(0)
    expect(created - new Date(NOW).getTime()).toBeLessThan(60_000)
    const symmetric = await (
      await kmsAs('KmsAdminRole')
    ).send(new DescribeKeyCommand({ KeyId: outputs['SymmetricKeyArn'] }))
    expect(symmetric.KeyMetadata).toMatchObject({
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT']
    })
    expect(emulator.state(OWNER).accounts[0]?.kmsKeys).toContainEqual(
      expect.objectContaining({ arn: keyArn(), aliases: [ALIAS], keySpec: 'ECC_NIST_P256' })
    )
  })

  it('signs as the role the key policy names, verifiably with node:crypto', async () => {
    const kms = await kmsAs('KmsWriteRole')
    const signed = await kms.send(
      new SignCommand({
        KeyId: ALIAS,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256'
      })
    )
    expect([signed.KeyId, signed.SigningAlgorithm]).toEqual([keyArn(), 'ECDSA_SHA_256'])
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyArn() }))
    const publicKey = {
      key: Buffer.from(PublicKey ?? []),
      format: 'der' as const,
      type: 'spki' as const
    }
    const signature = Buffer.from(signed.Signature ?? [])
    expect(signature[0]).toBe(0x30) // DER, as KMS returns ECDSA signatures
    expect(verifySignature('sha256', message, publicKey, signature)).toBe(true)
    expect(verifySignature('sha256', Buffer.from('tampered'), publicKey, signature)).toBe(false)

    // A digest the caller computed signs the same message; KMS verifies both.
    const digest = createHash('sha256').update(message).digest()
    const fromDigest = await kms.send(
      new SignCommand({
        KeyId: `arn:aws:kms:us-east-1:${OWNER}:${ALIAS}`,
        Message: digest,
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256'
      })
    )
    const digestSignature = Buffer.from(fromDigest.Signature ?? [])
    expect(verifySignature('sha256', message, publicKey, digestSignature)).toBe(true)
    // Verify: the delegated key (where the admin role's policy grants it) checks its own
    // signatures, of messages and of digests, and refuses another key's.
    const admin = await kmsAs('KmsAdminRole')
    const delegated = outputs['DelegatedKeyArn'] ?? ''
    const own = await admin.send(
      new SignCommand({ KeyId: delegated, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })
    )
    const verified = await admin.send(
      new VerifyCommand({
        KeyId: delegated,
        Message: digest,
        MessageType: 'DIGEST',
        Signature: own.Signature,
        SigningAlgorithm: 'ECDSA_SHA_256'
      })
    )
    expect([verified.KeyId, verified.SignatureValid]).toEqual([delegated, true])
    const forged = await rejection(
      admin.send(
        new VerifyCommand({
          KeyId: delegated,
          Message: message,
          Signature: signature,
          SigningAlgorithm: 'ECDSA_SHA_256'
        })
      )
    )
    expect(forged.name).toBe('KMSInvalidSignatureException')
  })

  it('answers NotFoundException for keys and aliases that do not exist', async () => {
    const kms = await kmsAs('KmsAdminRole')
    const alias = await rejection(kms.send(new DescribeKeyCommand({ KeyId: 'alias/nope' })))
    expect([alias.name, alias.message]).toEqual([
      'NotFoundException',
      `Alias arn:aws:kms:us-east-1:${OWNER}:alias/nope is not found.`
    ])
    const id = '00000000-0000-4000-8000-000000000000'
    const key = await rejection(kms.send(new GetPublicKeyCommand({ KeyId: id })))
    expect([key.name, key.message]).toEqual([
      'NotFoundException',
      `Key 'arn:aws:kms:us-east-1:${OWNER}:key/${id}' does not exist`
    ])
    // Aliases are per account and region.
    const west = new KMSClient({
      region: 'us-west-2',
      endpoint: emulator.url,
      credentials: rootCredentials(OWNER),
      maxAttempts: 1
    })
    expect((await rejection(west.send(new DescribeKeyCommand({ KeyId: ALIAS })))).name).toBe(
      'NotFoundException'
    )
  })

  it('refuses a role without a grant, in the words KMS uses', async () => {
    const audit = await kmsAs('KmsAuditRole')
    const sign = await rejection(
      audit.send(
        new SignCommand({ KeyId: ALIAS, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })
      )
    )
    expect([sign.name, sign.message]).toEqual([
      'AccessDeniedException',
      `User: arn:aws:sts::${OWNER}:assumed-role/KmsAuditRole/kms-test is not authorized to perform: kms:Sign on resource: ${keyArn()} because no resource-based policy allows the kms:Sign action`
    ])
    // The account's statement covers DescribeKey, but the role's own policies do not.
    const outsider = await kmsAs('KmsOutsiderRole')
    const describe = await rejection(outsider.send(new DescribeKeyCommand({ KeyId: ALIAS })))
    expect(describe.message).toBe(
      `User: arn:aws:sts::${OWNER}:assumed-role/KmsOutsiderRole/kms-test is not authorized to perform: kms:DescribeKey on resource: ${keyArn()} because no identity-based policy allows the kms:DescribeKey action`
    )
    // The key policy's condition: only ECDSA_SHA_256 signs.
    const writer = await kmsAs('KmsWriteRole')
    const algorithm = await rejection(
      writer.send(
        new SignCommand({ KeyId: ALIAS, Message: message, SigningAlgorithm: 'ECDSA_SHA_384' })
      )
    )
    expect(algorithm.name).toBe('AccessDeniedException')
  })

  it('lets IAM policies decide where the key policy delegates to the account, and only there', async () => {
    const admin = await kmsAs('KmsAdminRole')
    // The account's statement of the state key has no kms:Sign: IAM policies cannot grant it.
    const denied = await rejection(
      admin.send(
        new SignCommand({ KeyId: ALIAS, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })
      )
    )
    expect(denied.message).toContain('because no resource-based policy allows the kms:Sign action')
    await expect(admin.send(new DescribeKeyCommand({ KeyId: ALIAS }))).resolves.toBeDefined()
    await expect(admin.send(new GetPublicKeyCommand({ KeyId: ALIAS }))).resolves.toBeDefined()
    // The delegated key's account statement has kms:*: the role's policy grants Sign.
    const signed = await admin.send(
      new SignCommand({
        KeyId: outputs['DelegatedKeyArn'],
        Message: message,
        SigningAlgorithm: 'ECDSA_SHA_256'
      })
    )
    expect(signed.Signature?.length).toBeGreaterThan(60)
  })

  it('lets an explicit deny win, in the key policy or the caller’s', async () => {
    const admin = await kmsAs('KmsAdminRole')
    const digest = await rejection(
      admin.send(
        new SignCommand({
          KeyId: outputs['DelegatedKeyArn'],
          Message: createHash('sha256').update(message).digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256'
        })
      )
    )
    expect(digest.message).toMatch(/with an explicit deny in a resource-based policy$/)
    // The key policy names the dry-run role, and its own policy denies.
    const dryRun = await kmsAs('KmsDryRunRole')
    const publicKey = await rejection(dryRun.send(new GetPublicKeyCommand({ KeyId: ALIAS })))
    expect(publicKey.message).toMatch(/with an explicit deny in an identity-based policy$/)
    await expect(dryRun.send(new DescribeKeyCommand({ KeyId: ALIAS }))).resolves.toBeDefined()
  })

  it('needs both the key policy and the caller’s policies across accounts', async () => {
    const reader = await kmsAs('kms-partner-reader', PARTNER)
    const delegated = outputs['DelegatedKeyArn'] ?? ''
    await expect(reader.send(new DescribeKeyCommand({ KeyId: delegated }))).resolves.toMatchObject({
      KeyMetadata: { AWSAccountId: OWNER }
    })
    const nothing = await kmsAs('kms-partner-nothing', PARTNER)
    expect(
      (await rejection(nothing.send(new DescribeKeyCommand({ KeyId: delegated })))).message
    ).toContain('because no identity-based policy allows')
    // Its own policy allows, but the key policy's aws:PrincipalArn condition does not match.
    const stranger = await kmsAs('kms-stranger', PARTNER)
    expect(
      (await rejection(stranger.send(new DescribeKeyCommand({ KeyId: delegated })))).message
    ).toContain('because no resource-based policy allows')
    // The state key does not trust the partner account at all; an alias name stays local.
    expect(
      (await rejection(reader.send(new DescribeKeyCommand({ KeyId: keyArn() })))).message
    ).toContain('because no resource-based policy allows')
    expect((await rejection(reader.send(new DescribeKeyCommand({ KeyId: ALIAS })))).name).toBe(
      'NotFoundException'
    )
  })

  it('refuses what the key cannot do, as KMS does', async () => {
    const admin = await kmsAs('KmsAdminRole')
    const symmetric = outputs['SymmetricKeyArn'] ?? ''
    const usage = await rejection(
      admin.send(
        new SignCommand({ KeyId: symmetric, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })
      )
    )
    expect([usage.name, usage.message]).toEqual([
      'InvalidKeyUsageException',
      `${symmetric} key usage is ENCRYPT_DECRYPT which is not valid for Sign.`
    ])
    const noPublicKey = await rejection(admin.send(new GetPublicKeyCommand({ KeyId: symmetric })))
    expect(noPublicKey.name).toBe('UnsupportedOperationException')
    const delegated = outputs['DelegatedKeyArn'] ?? ''
    const algorithm = await rejection(
      admin.send(
        new SignCommand({
          KeyId: delegated,
          Message: message,
          SigningAlgorithm: 'RSASSA_PSS_SHA_256'
        })
      )
    )
    expect([algorithm.name, algorithm.message]).toEqual([
      'InvalidKeyUsageException',
      'Algorithm RSASSA_PSS_SHA_256 is incompatible with key spec ECC_NIST_P256.'
    ])
    const unknown = await rejection(
      admin.send(
        new SignCommand({
          KeyId: delegated,
          Message: message,
          SigningAlgorithm: 'ECDSA_SHA_1' as never
        })
      )
    )
    expect(unknown.name).toBe('ValidationException')
    const missing = await rejection(
      admin.send(new SignCommand({ KeyId: delegated, Message: message } as never))
    )
    expect([missing.name, missing.message]).toEqual([
      'ValidationException',
      "1 validation error detected: Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null"
    ])
    const tooLong = await rejection(
      admin.send(
        new SignCommand({
          KeyId: delegated,
          Message: new Uint8Array(4097),
          SigningAlgorithm: 'ECDSA_SHA_256'
        })
      )
    )
    expect(tooLong.name).toBe('ValidationException')
    const disabledKey = outputs['DisabledKeyArn'] ?? ''
    const disabled = await rejection(
      admin.send(
        new SignCommand({ KeyId: disabledKey, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })
      )
    )
    expect([disabled.name, disabled.message]).toEqual([
      'DisabledException',
      `${disabledKey} is disabled.`
    ])
    const described = await admin.send(new DescribeKeyCommand({ KeyId: disabledKey }))
    expect(described.KeyMetadata).toMatchObject({ Enabled: false, KeyState: 'Disabled' })
  })

  it('records the key policy statements that granted the action’s requests', async () => {
    const writer = await kmsAs('KmsWriteRole')
    await writer.send(
      new SignCommand({ KeyId: ALIAS, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })
    )
    await (await kmsAs('KmsAdminRole')).send(new DescribeKeyCommand({ KeyId: ALIAS }))
    const logDir = process.env[PERMISSION_LOG_ENV]
    expect(logDir, 'the Vitest config sets the permission log').toBeTruthy()
    const uses = readFileSync(join(logDir ?? '', `${process.pid}.jsonl`), 'utf8')
      .split('\n')
      .filter(line => line.trim() !== '')
      .map(line => JSON.parse(line) as unknown)
    expect(uses).toEqual(
      expect.arrayContaining([
        { origin: 'TestSigningKey', sid: 'OnlyTheWriteRoleSigns', action: 'kms:Sign' },
        // Through the account's statement, which the role's own policy completes.
        { origin: 'TestSigningKey', sid: 'AccountAdministers', action: 'kms:DescribeKey' },
        { origin: 'KmsAdminRole', sid: '(no Sid)', action: 'kms:DescribeKey' }
      ])
    )
  })
})
