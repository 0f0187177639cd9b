import { describe, expect, it } from 'vitest'
import { deployTemplate, DeploymentError, type DeployedResource } from './cfn-engine.js'
import { buildState } from './seed.js'

const world = { organizationId: 'o-engine0000', managementAccountId: '111111111111' }

function setup() {
  const state = buildState(world, new Date('2026-01-01T00:00:00Z'))
  const account = state.accounts.get('111111111111')
  if (!account) throw new Error('no account')
  return { state, account }
}

const role = (
  name: unknown,
  principal: string,
  policy: object = { Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }
) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    RoleName: name,
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }]
    },
    Policies: [{ PolicyName: 'p', PolicyDocument: { Version: '2012-10-17', Statement: [policy] } }]
  }
})

function deploy(
  ctx: ReturnType<typeof setup>,
  resources: object,
  previous?: ReadonlyMap<string, DeployedResource>,
  extra: object = {}
) {
  return deployTemplate(ctx.state, {
    account: ctx.account,
    region: 'us-east-1',
    stackName: 'engine',
    stackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/engine/1',
    managedBy: 'stack/engine',
    templateBody: JSON.stringify({ Resources: resources, ...extra }),
    parameters: new Map(),
    previous,
    now: new Date('2026-01-01T00:00:00Z')
  })
}

describe('the template engine', () => {
  it('rolls a failed update back: updated resources get their old properties again', () => {
    const ctx = setup()
    const first = deploy(ctx, { A: role('a', 'arn:aws:iam::111111111111:root') })
    const badPolicy = { Effect: 'Allow', Action: 'iam:ListUsers' } // no Resource: malformed
    expect(() =>
      deploy(
        ctx,
        {
          A: role('a', 'arn:aws:iam::999999999999:root'),
          B: role('b', 'arn:aws:iam::111111111111:root', badPolicy)
        },
        first.resources
      )
    ).toThrow(DeploymentError)
    expect(ctx.account.iam.roles.get('a')?.trust.document).toContain('111111111111:root')
    expect(ctx.account.iam.roles.has('b')).toBe(false)
  })

  it('replaces a renamed role only once the deployment has succeeded', () => {
    const ctx = setup()
    const first = deploy(ctx, { A: role('old-name', 'arn:aws:iam::111111111111:root') })
    const badPolicy = { Effect: 'Allow', Action: 'iam:ListUsers' }
    expect(() =>
      deploy(
        ctx,
        {
          A: role('new-name', 'arn:aws:iam::111111111111:root'),
          B: role('b', 'arn:aws:iam::111111111111:root', badPolicy)
        },
        first.resources
      )
    ).toThrow(DeploymentError)
    expect([...ctx.account.iam.roles.keys()]).toContain('old-name')
    expect([...ctx.account.iam.roles.keys()]).not.toContain('new-name')
    deploy(ctx, { A: role('new-name', 'arn:aws:iam::111111111111:root') }, first.resources)
    expect([...ctx.account.iam.roles.keys()]).toContain('new-name')
    expect([...ctx.account.iam.roles.keys()]).not.toContain('old-name')
  })

  it('resolves Fn::Sub variables, ${!Literal}, ${Resource.Attr}, Fn::If and AWS::NoValue', () => {
    const ctx = setup()
    const result = deploy(ctx, { A: role('a', 'arn:aws:iam::111111111111:root') }, undefined, {
      Conditions: { Never: { 'Fn::Equals': ['x', 'y'] } },
      Outputs: {
        Sub: {
          Value: {
            'Fn::Sub': [
              '${A.Arn}|${!aws:username}|${Empty}|${AWS::AccountId}',
              { Empty: { 'Fn::If': ['Never', 'no', { Ref: 'AWS::NoValue' }] } }
            ]
          }
        }
      }
    })
    expect(result.outputs.get('Sub')).toBe(
      'arn:aws:iam::111111111111:role/a|${aws:username}||111111111111'
    )
  })

  it('keeps a key (id, key pair, creation date) on update, and replaces it for a new key spec', () => {
    const ctx = setup()
    const key = (properties: object) => ({ Type: 'AWS::KMS::Key', Properties: properties })
    const signing = { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }
    const alias = {
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: 'alias/k', TargetKeyId: { Ref: 'K' } }
    }
    const first = deploy(ctx, { K: key(signing), A: alias })
    const arn = first.resources.get('K')?.attributes['Arn'] ?? ''
    const before = ctx.account.kms.get(arn)
    expect(before?.keyPair).toBeDefined()
    // No KeyPolicy: the default one, the account administering the key through IAM.
    expect(JSON.parse(before?.policy ?? '{}')).toMatchObject({
      Statement: [{ Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*' }]
    })
    const updated = deploy(
      ctx,
      { K: key({ ...signing, Description: 'd' }), A: alias },
      first.resources
    )
    const after = ctx.account.kms.get(arn)
    expect(after?.description).toBe('d')
    expect(after?.keyPair).toBe(before?.keyPair)
    expect(after?.creationDate).toBe(before?.creationDate)
    const replaced = deploy(ctx, { K: key({}), A: alias }, updated.resources)
    const newArn = replaced.resources.get('K')?.attributes['Arn'] ?? ''
    expect(newArn).not.toBe(arn)
    expect(ctx.account.kms.has(arn)).toBe(false)
    expect(ctx.account.kms.get(newArn)).toMatchObject({
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      keyPair: undefined
    })
    expect(ctx.account.kmsAliases.get('arn:aws:kms:us-east-1:111111111111:alias/k')).toBe(newArn)
  })

  it('refuses key specs it does not model, mismatched usages and taken aliases', () => {
    const ctx = setup()
    const key = (properties: object) => ({ Type: 'AWS::KMS::Key', Properties: properties })
    expect(() => deploy(ctx, { K: key({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }) })).toThrow(
      'the emulator does not model KMS keys with KeySpec RSA_2048'
    )
    expect(() => deploy(ctx, { K: key({ KeySpec: 'ECC_NIST_P256' }) })).toThrow(
      'KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ECC_NIST_P256'
    )
    const alias = (name: string) => ({
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: name, TargetKeyId: { Ref: 'K' } }
    })
    deploy(ctx, { K: key({}), A: alias('alias/taken') })
    expect(() => deploy(ctx, { K: key({}), A: alias('alias/taken') })).toThrow('already exists')
    expect(() => deploy(ctx, { K: key({}), A: alias('alias/aws/secretsmanager') })).toThrow(
      'may not start with alias/aws/'
    )
  })
})
