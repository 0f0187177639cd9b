import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { READ_OWN_SECRET_POLICY_NAME } from '../../src/secrets/health.js'
import { parseCloudFormation } from '../../src/deploy/cfn-yaml.js'
import { loadMemberTemplate, parameterProblems } from '../../src/deploy/template.js'
import { lifecycleTagKey } from '../../src/scan/lifecycle-tags.js'
import { SECRET_KEY_ID_TAG, SecretStore } from '../../src/secrets/store.js'
import { IdFactory } from '../emulator/random.js'
import { unusedVerifier } from '../support/state-key.js'
import {
  CFN_DIR,
  alternatives,
  iamMatch,
  isRecord,
  loadTemplates,
  policyDocuments,
  render,
  section,
  statements,
  strings,
  substitute,
  type LoadedTemplate,
  type Statement
} from './policies.js'
import { withCurrentTable } from './permissions-table.js'

const TEMPLATES = loadTemplates()
const ALL_STATEMENTS = TEMPLATES.flatMap(t => policyDocuments(t).flatMap(statements))
/** What the roles may do; the Deny statements are guards, checked on their own below. */
const ALLOWS = ALL_STATEMENTS.filter(s => s.body['Effect'] === 'Allow')
const DENIES = ALL_STATEMENTS.filter(s => s.body['Effect'] === 'Deny')

function template(file: string): LoadedTemplate {
  const found = TEMPLATES.find(t => t.file === file)
  if (!found) throw new Error(`cfn/${file} is missing`)
  return found
}

function actionsOf(statement: Statement): string[] {
  return strings(statement.body['Action'])
}

function resourcesOf(statement: Statement): string[] {
  return strings(statement.body['Resource'])
}

/** Statements of one resource's policies (identity policies unless a kind is given). */
function statementsOf(file: string, resource: string, kind = 'identity'): Statement[] {
  return ALL_STATEMENTS.filter(
    s => s.where.startsWith(`${file} › ${resource} ›`) && s.kind === kind
  )
}

function allowedActions(file: string, resource: string, service: string): Set<string> {
  return new Set(
    statementsOf(file, resource)
      .filter(s => s.body['Effect'] === 'Allow')
      .flatMap(actionsOf)
      .filter(action => action.startsWith(`${service}:`))
  )
}

/**
 * Actions without resource-level permissions, for which IAM accepts only Resource "*". Each is
 * read-only; the comment next to its statement in the template says why it is needed.
 */
const STAR_RESOURCE_ACTIONS = new Set([
  'iam:GetAccountAuthorizationDetails',
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'organizations:DescribeOrganization',
  'organizations:ListAccounts',
  'organizations:ListDelegatedAdministrators',
  'organizations:ListRoots',
  'cloudformation:DescribeStackDriftDetectionStatus',
  'secretsmanager:ListSecrets',
  'ses:GetSendQuota'
])

describe('cfn templates', () => {
  it('has the five templates, each parsing with its CloudFormation tags', () => {
    expect(TEMPLATES.map(t => t.file)).toEqual([
      'central-github-oidc.yaml',
      'central-secrets-kms.yaml',
      'management-list-accounts-role.yaml',
      'member-role.yaml',
      'vpc-endpoints.yaml'
    ])
    for (const { file, template: t } of TEMPLATES) {
      expect(t['AWSTemplateFormatVersion'], file).toBe('2010-09-09')
      expect(typeof t['Description'], file).toBe('string')
      expect(Object.keys(section(t, 'Resources')).length, file).toBeGreaterThan(0)
      expect(Object.keys(section(t, 'Outputs')).length, file).toBeGreaterThan(0)
      // Short forms became long forms: no tag survived as text.
      expect(JSON.stringify(t), file).not.toMatch(/"!(Ref|Sub|If|GetAtt)\b/)
    }
  })

  it('parses every short-form tag, as scalar, sequence or mapping', () => {
    const parsed = parseCloudFormation(
      [
        'ref: !Ref Param',
        'cond: !Condition IsProd',
        'att: !GetAtt Role.Arn',
        'attNested: !GetAtt Stack.Outputs.Name',
        'attList: !GetAtt [Role, Arn]',
        'sub: !Sub "arn:${AWS::Partition}:x"',
        'subList: !Sub ["${A}-b", { A: !Ref X }]',
        'if: !If [IsProd, !Ref A, !Ref "AWS::NoValue"]',
        'equals: !Equals [!Ref A, "true"]',
        'not: !Not [!Equals [a, b]]',
        'and: !And [!Condition A, !Condition B]',
        'or: !Or [!Condition A, !Condition B]',
        'join: !Join ["", [a, !Ref B]]',
        'select: !Select [0, !GetAZs ""]',
        'split: !Split [",", !Ref L]',
        'find: !FindInMap [Map, !Ref "AWS::Region", Key]',
        'import: !ImportValue shared-export',
        'importSub: !ImportValue { "Fn::Sub": "${Env}-export" }',
        'b64: !Base64 { "Fn::Sub": "x" }',
        'cidr: !Cidr [10.0.0.0/16, 4, 8]'
      ].join('\n')
    )
    expect(parsed).toEqual({
      ref: { Ref: 'Param' },
      cond: { Condition: 'IsProd' },
      att: { 'Fn::GetAtt': ['Role', 'Arn'] },
      attNested: { 'Fn::GetAtt': ['Stack', 'Outputs.Name'] },
      attList: { 'Fn::GetAtt': ['Role', 'Arn'] },
      sub: { 'Fn::Sub': 'arn:${AWS::Partition}:x' },
      subList: { 'Fn::Sub': ['${A}-b', { A: { Ref: 'X' } }] },
      if: { 'Fn::If': ['IsProd', { Ref: 'A' }, { Ref: 'AWS::NoValue' }] },
      equals: { 'Fn::Equals': [{ Ref: 'A' }, 'true'] },
      not: { 'Fn::Not': [{ 'Fn::Equals': ['a', 'b'] }] },
      and: { 'Fn::And': [{ Condition: 'A' }, { Condition: 'B' }] },
      or: { 'Fn::Or': [{ Condition: 'A' }, { Condition: 'B' }] },
      join: { 'Fn::Join': ['', ['a', { Ref: 'B' }]] },
      select: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] },
      split: { 'Fn::Split': [',', { Ref: 'L' }] },
      find: { 'Fn::FindInMap': ['Map', { Ref: 'AWS::Region' }, 'Key'] },
      import: { 'Fn::ImportValue': 'shared-export' },
      importSub: { 'Fn::ImportValue': { 'Fn::Sub': '${Env}-export' } },
      b64: { 'Fn::Base64': { 'Fn::Sub': 'x' } },
      cidr: { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] }
    })
    expect(() => parseCloudFormation('a: [')).toThrow(/not valid YAML/)
    expect(() => parseCloudFormation('- a')).toThrow(/not a mapping/)
  })

  it('describes and validates every parameter, and every default passes its own rule', async () => {
    for (const { file, template: t } of TEMPLATES) {
      for (const [name, parameter] of Object.entries(section(t, 'Parameters'))) {
        expect(typeof parameter['Description'], `${file} ${name}`).toBe('string')
        const type = String(parameter['Type'])
        const validated =
          typeof parameter['AllowedPattern'] === 'string' ||
          Array.isArray(parameter['AllowedValues']) ||
          /^(List<)?AWS::/.test(type)
        expect(validated, `${file} ${name} has no AllowedPattern/AllowedValues`).toBe(true)
      }
      const { parameters } = await loadMemberTemplate(CFN_DIR, bodyOf(file))
      const problems = parameterProblems(parameters, {}).filter(p => !p.includes('is required'))
      expect(problems, file).toEqual([])
    }
  })

  it('refers only to declared parameters, resources, conditions and pseudo parameters', () => {
    const pseudo = ['AWS::AccountId', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix', 'AWS::NoValue']
    for (const { file, template: t } of TEMPLATES) {
      const names = new Set([
        ...Object.keys(section(t, 'Parameters')),
        ...Object.keys(section(t, 'Resources')),
        ...pseudo
      ])
      const conditions = new Set(Object.keys(section(t, 'Conditions')))
      const check = (value: unknown, locals: Set<string>): void => {
        if (Array.isArray(value)) return value.forEach(v => check(v, locals))
        if (!isRecord(value)) return
        for (const [key, child] of Object.entries(value)) {
          if (key === 'Ref') expect(names.has(String(child)), `${file}: Ref ${String(child)}`).toBe(true)
          if (key === 'Condition' && typeof child === 'string') {
            expect(conditions.has(child), `${file}: condition ${child}`).toBe(true)
          }
          if (key === 'Fn::If' && Array.isArray(child)) {
            expect(conditions.has(String(child[0])), `${file}: condition ${String(child[0])}`).toBe(true)
          }
          if (key === 'Fn::GetAtt' && Array.isArray(child)) {
            expect(names.has(String(child[0])), `${file}: GetAtt ${String(child[0])}`).toBe(true)
          }
          if (key === 'Fn::Sub') {
            const [text, vars] = Array.isArray(child) ? (child as unknown[]) : [child, {}]
            const subLocals = new Set([...locals, ...Object.keys(isRecord(vars) ? vars : {})])
            for (const [, bang, ref] of String(text).matchAll(/\$\{(!?)([^}]+)\}/g)) {
              if (bang === '!') continue
              const target = (ref ?? '').split('.')[0] ?? ''
              expect(names.has(target) || subLocals.has(target), `${file}: \${${ref}}`).toBe(true)
            }
            if (isRecord(vars)) check(vars, locals)
            continue
          }
          check(child, locals)
        }
      }
      check(t['Resources'], new Set())
      check(t['Outputs'], new Set())
      check(t['Conditions'], new Set())
      for (const resource of Object.values(section(t, 'Resources'))) {
        if (typeof resource['Condition'] === 'string') {
          expect(conditions.has(resource['Condition']), file).toBe(true)
        }
      }
    }
  })
})

describe('every policy statement', () => {
  it('finds the policies of every role, managed policy and key', () => {
    const owners = new Set(ALL_STATEMENTS.map(s => `${s.resourceType} ${s.kind}`))
    expect(owners).toEqual(
      new Set([
        'AWS::IAM::Role trust',
        'AWS::IAM::Role identity',
        'AWS::IAM::ManagedPolicy identity',
        'AWS::KMS::Key key'
      ])
    )
    // 4 roles (member, list-accounts, central) have trust and identity policies.
    for (const { file, template: t } of TEMPLATES) {
      for (const [name, resource] of Object.entries(section(t, 'Resources'))) {
        if (resource['Type'] !== 'AWS::IAM::Role') continue
        expect(statementsOf(file, name, 'trust').length, `${file} ${name}`).toBeGreaterThan(0)
        expect(statementsOf(file, name).length, `${file} ${name}`).toBeGreaterThan(0)
      }
    }
    expect(ALL_STATEMENTS.length).toBeGreaterThan(20)
  })

  it('uses no "*" or "service:*" action (no wildcard at all), no NotAction or NotResource', () => {
    for (const statement of ALL_STATEMENTS) {
      const actions = actionsOf(statement)
      expect(actions.length, statement.where).toBeGreaterThan(0)
      for (const action of actions) {
        expect(action, statement.where).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/)
      }
      expect(statement.body, statement.where).not.toHaveProperty('NotAction')
      expect(statement.body, statement.where).not.toHaveProperty('NotResource')
      expect(['Allow', 'Deny'], statement.where).toContain(statement.body['Effect'])
    }
  })

  it('denies only as guards: the management account, protected users, the protected tag, secret values', () => {
    const guards = new Map(
      DENIES.map(s => [s.where.replace(/ › \d+$/, ''), { actions: actionsOf(s), body: s.body }])
    )
    expect([...new Set(DENIES.map(s => s.body['Sid']))].sort()).toEqual([
      'NeverChangeProtectedUsers',
      'NeverChangeTheProtectedTag',
      'NeverReadSecretValues',
      'NeverTheManagementAccountsMemberRole'
    ])
    expect(guards.size).toBeGreaterThan(0)
    for (const statement of DENIES) {
      const sid = statement.body['Sid']
      if (sid === 'NeverReadSecretValues') {
        expect(actionsOf(statement), statement.where).toEqual([
          'secretsmanager:GetSecretValue',
          'secretsmanager:BatchGetSecretValue'
        ])
      }
      if (sid === 'NeverChangeProtectedUsers') {
        // Every user write a member role can make.
        const writes = ALLOWS.filter(s => s.where.includes('MemberRole ›'))
          .flatMap(actionsOf)
          .filter(a => /^iam:(Create|Update|Delete)AccessKey|^iam:(Tag|Untag)User|^iam:AttachUserPolicy/.test(a))
        expect(new Set(actionsOf(statement)), statement.where).toEqual(new Set(writes))
        expect(statement.body['Condition'], statement.where).toEqual({
          StringEqualsIgnoreCase: { 'aws:ResourceTag/iam-key-rotation:protected': 'true' }
        })
      }
      if (sid === 'NeverChangeTheProtectedTag') {
        expect(statement.body['Condition'], statement.where).toEqual({
          'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': 'iam-key-rotation:protected' }
        })
      }
    }
    // Both member roles deny reading secret values.
    expect(DENIES.filter(s => s.body['Sid'] === 'NeverReadSecretValues').map(s => s.where)).toEqual([
      expect.stringContaining('MemberRole ›'),
      expect.stringContaining('AuditMemberRole ›')
    ])
  })

  it('never grants iam:PutUserPolicy', () => {
    for (const statement of ALL_STATEMENTS) {
      expect(actionsOf(statement).map(a => a.toLowerCase()), statement.where).not.toContain(
        'iam:putuserpolicy'
      )
    }
    for (const { file, body } of TEMPLATES) expect(body, file).not.toMatch(/PutUserPolicy/i)
  })

  it('puts a Condition on every trust policy statement', () => {
    const trust = ALL_STATEMENTS.filter(s => s.kind === 'trust')
    expect(trust.length).toBe(6)
    for (const statement of trust) {
      const condition = statement.body['Condition']
      expect(isRecord(condition) && Object.keys(condition).length > 0, statement.where).toBe(true)
    }
  })

  it('uses Resource "*" only for actions without resource-level permissions (and in key policies)', () => {
    for (const statement of ALLOWS) {
      if (!resourcesOf(statement).includes('*')) continue
      // In a key policy, "*" is the key itself: the only form KMS accepts.
      if (statement.kind === 'key') continue
      for (const action of actionsOf(statement)) {
        expect(STAR_RESOURCE_ACTIONS.has(action), `${statement.where}: ${action} on "*"`).toBe(true)
      }
      expect(resourcesOf(statement), statement.where).toEqual(['*'])
    }
    // ...and every allow-listed action is in fact used on "*" somewhere (the list stays honest).
    const onStar = new Set(
      ALLOWS.filter(s => s.kind !== 'key' && resourcesOf(s).includes('*')).flatMap(actionsOf)
    )
    expect(onStar).toEqual(STAR_RESOURCE_ACTIONS)
  })

  it('limits access-key and user-tag actions to user ARNs of the account, and writes to the user path', () => {
    const userActions = /^iam:(\w*AccessKey\w*|TagUser|UntagUser|AttachUserPolicy)$/
    const reads = /^iam:(ListAccessKeys|GetAccessKeyLastUsed)$/
    let seen = 0
    for (const statement of ALLOWS) {
      if (!actionsOf(statement).some(a => userActions.test(a))) continue
      seen += 1
      expect(actionsOf(statement).every(a => userActions.test(a)), statement.where).toBe(true)
      const onlyReads = actionsOf(statement).every(a => reads.test(a))
      expect(resourcesOf(statement), statement.where).toEqual([
        onlyReads
          ? 'arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*'
          : 'arn:${AWS::Partition}:iam::${AWS::AccountId}:user${UserPath}*'
      ])
    }
    expect(seen).toBe(5)
    // "/" covers every user, "/apps/" only users under /apps/ (a user ARN holds the path).
    const under = (path: string) => `arn:aws:iam::222222222222:user${path}*`
    expect(iamMatch(under('/'), 'arn:aws:iam::222222222222:user/apps/bob')).toBe(true)
    expect(iamMatch(under('/apps/'), 'arn:aws:iam::222222222222:user/apps/bob')).toBe(true)
    expect(iamMatch(under('/apps/'), 'arn:aws:iam::222222222222:user/bob')).toBe(false)
    expect(iamMatch(under('/apps/'), 'arn:aws:iam::222222222222:user/apps-admin/bob')).toBe(false)
  })

  it('limits Secrets Manager actions to secrets under the name prefix', () => {
    let seen = 0
    for (const statement of ALLOWS) {
      // ListSecrets has no resource-level permissions (checked above); the code keeps the prefix.
      if (!actionsOf(statement).some(a => a.startsWith('secretsmanager:') && a !== 'secretsmanager:ListSecrets')) continue
      seen += 1
      for (const resource of resourcesOf(statement)) {
        expect(resource, statement.where).toMatch(
          /^arn:\$\{AWS::Partition\}:secretsmanager:\*:\$\{[\w:]+\}:secret:\$\{SecretNamePrefix\}/
        )
      }
    }
    expect(seen).toBe(5)
  })

  it('conditions tagging on the tool\'s tag keys, policy attachment on the one policy, KMS use on Secrets Manager', () => {
    for (const statement of ALLOWS.filter(s => s.kind !== 'key')) {
      const actions = actionsOf(statement)
      const condition = JSON.stringify(statement.body['Condition'] ?? {})
      if (actions.some(a => /^(iam:(Tag|Untag)User|secretsmanager:TagResource)$/.test(a))) {
        expect(statement.body['Condition'], statement.where).toEqual({
          'ForAllValues:StringLike': { 'aws:TagKeys': 'iam-key-rotation:*' },
          Null: { 'aws:TagKeys': 'false' }
        })
      }
      if (actions.includes('secretsmanager:PutResourcePolicy')) {
        expect(statement.body['Condition'], statement.where).toEqual({
          Bool: { 'secretsmanager:BlockPublicPolicy': 'true' }
        })
      }
      if (actions.includes('iam:AttachUserPolicy')) {
        expect(statement.body['Condition'], statement.where).toEqual({
          ArnEquals: { 'iam:PolicyARN': { Ref: 'ReadOwnSecretPolicy' } }
        })
      }
      // kms:DescribeKey (metadata: does the replica key exist) is the action's own call, not Secrets Manager's.
      if (actions.some(a => a.startsWith('kms:') && a !== 'kms:DescribeKey')) {
        expect(condition, statement.where).toContain('"kms:ViaService":"secretsmanager.*.amazonaws.com"')
      }
      if (actions.includes('kms:DescribeKey') && statement.kind === 'identity') {
        expect(actions, statement.where).toEqual(['kms:DescribeKey'])
      }
      if (statement.kind === 'identity' && actions.includes('sts:AssumeRole')) {
        expect(statement.body['Condition'], statement.where).toEqual({
          StringEquals: { 'aws:ResourceOrgID': { Ref: 'OrganizationId' } }
        })
      }
    }
    // The tool's tag keys fall under that condition.
    expect(iamMatch('iam-key-rotation:*', SECRET_KEY_ID_TAG)).toBe(true)
    expect(iamMatch('iam-key-rotation:*', lifecycleTagKey(new IdFactory(1).accessKeyId()))).toBe(true)
  })
})

describe('member-role.yaml', () => {
  const file = 'member-role.yaml'
  const t = template(file).template

  it('declares the parameters the StackSet (and the local emulator) use', () => {
    const parameters = section(t, 'Parameters')
    expect(Object.keys(parameters)).toEqual(
      expect.arrayContaining(['MemberRoleName', 'CentralRoleArn', 'OrganizationId', 'SecretNamePrefix'])
    )
    expect(parameters['MemberRoleName']?.['Default']).toBe('iam-key-rotation-member')
    expect(parameters['SecretNamePrefix']?.['Default']).toBe('iam-key-rotation/')
    expect(parameters['ExemptionGroupName']?.['Default']).toBe('IAMKeyRotationExemptionGroup')
  })

  it('is trusted only by the central role of the organization; the audit member role by the read-only ones', () => {
    const trustOf = (role: string) => {
      const [trust, ...others] = statementsOf(file, role, 'trust')
      expect(others).toEqual([])
      expect(trust?.body).toMatchObject({
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } }
      })
      return trust?.body['Principal']
    }
    expect(trustOf('MemberRole')).toEqual({ AWS: { Ref: 'CentralRoleArn' } })
    expect(trustOf('AuditMemberRole')).toEqual({
      AWS: [
        { Ref: 'CentralAuditRoleArn' },
        { 'Fn::If': ['TrustsDryRunRole', { Ref: 'CentralDryRunRoleArn' }, { Ref: 'AWS::NoValue' }] }
      ]
    })
  })

  it('gives the audit member role reads only', () => {
    const actions = statementsOf(file, 'AuditMemberRole')
      .filter(s => s.body['Effect'] === 'Allow')
      .flatMap(actionsOf)
    for (const action of actions) {
      expect(action).toMatch(/^[a-z]+:(Get|List|Describe|Generate|Simulate)/)
    }
    // SimulatePrincipalPolicy evaluates the user's policies; it reads, and changes nothing.
    expect(actions.filter(a => a.includes(':Simulate'))).toEqual(['iam:SimulatePrincipalPolicy'])
    // GenerateCredentialReport starts a report; it changes nothing the tool or a user relies on.
    expect(actions.filter(a => a.includes(':Generate'))).toEqual(['iam:GenerateCredentialReport'])
  })

  // Which calls the role needs is proven by the end-to-end suite (test/after-suite): here only
  // that it never reads a secret's value.
  it('never reads a secret value', () => {
    expect(allowedActions(file, 'MemberRole', 'secretsmanager')).not.toContain(
      'secretsmanager:GetSecretValue'
    )
  })

  it('creates the read-own-secret policy under the name the engine attaches', () => {
    const policy = section(t, 'Resources')['ReadOwnSecretPolicy']
    expect(policy?.['Type']).toBe('AWS::IAM::ManagedPolicy')
    expect((policy?.['Properties'] as Record<string, unknown>)['ManagedPolicyName']).toBe(
      READ_OWN_SECRET_POLICY_NAME
    )
  })

  it('lets a user read its own secret, in its account or the central one, and no other user\'s', () => {
    const [read] = statementsOf(file, 'ReadOwnSecretPolicy')
    expect(actionsOf(read!)).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'])
    const [pattern] = resourcesOf(read!)
    const store = new SecretStore({ namePrefix: 'iam-key-rotation/', replicaRegions: [], replicaKmsKeyIds: {}, clientFor: () => { throw new Error('unused') }, verifier: unusedVerifier })
    const secretArn = (account: string, user: string) =>
      `arn:aws:secretsmanager:eu-west-1:${account}:secret:${store.secretName('222222222222', user)}-AbC123`
    const fill = (secretsAccount: string, user: string) =>
      substitute(pattern!, {
        'AWS::Partition': 'aws',
        'AWS::AccountId': '222222222222',
        SecretsAccount: secretsAccount,
        SecretNamePrefix: 'iam-key-rotation/'
      }).replace('${aws:username}', user)
    // Member mode: the secret is in the user's own account.
    expect(iamMatch(fill('222222222222', 'ci-bot'), secretArn('222222222222', 'ci-bot'))).toBe(true)
    // Central mode: the secret is in the secrets account, still named after the user's account.
    expect(iamMatch(fill('999999999999', 'ci-bot'), secretArn('999999999999', 'ci-bot'))).toBe(true)
    // Not another user's secret, not even one whose name starts with this user's name.
    expect(iamMatch(fill('222222222222', 'ci-bot'), secretArn('222222222222', 'ci-bot-admin'))).toBe(false)
    expect(iamMatch(fill('222222222222', 'ci'), secretArn('222222222222', 'ci-bot'))).toBe(false)
    // The Sub variable picks the secrets account only in central mode.
    const sub = (read!.body['Resource'] as Record<string, unknown[]>)['Fn::Sub']
    expect(sub?.[1]).toEqual({
      SecretsAccount: {
        'Fn::If': ['CentralSecrets', { Ref: 'SecretsAccountId' }, { Ref: 'AWS::AccountId' }]
      }
    })
  })

  it('scopes the role\'s secret writes to the prefix in its own account', () => {
    const writes = statementsOf(file, 'MemberRole').filter(
      s =>
        s.body['Effect'] === 'Allow' &&
        actionsOf(s).some(a => a.startsWith('secretsmanager:') && a !== 'secretsmanager:ListSecrets')
    )
    const name = 'iam-key-rotation/333333333333/ci-bot'
    for (const statement of writes) {
      const [pattern] = resourcesOf(statement)
      const filled = substitute(pattern!, {
        'AWS::Partition': 'aws',
        'AWS::AccountId': '999999999999',
        SecretNamePrefix: 'iam-key-rotation/'
      })
      // Central store: every member's secret under the prefix in this account.
      expect(iamMatch(filled, `arn:aws:secretsmanager:us-east-1:999999999999:secret:${name}-AbC123`)).toBe(true)
      expect(iamMatch(filled, `arn:aws:secretsmanager:us-east-1:999999999999:secret:prod/db-AbC123`)).toBe(false)
      expect(iamMatch(filled, `arn:aws:secretsmanager:us-east-1:888888888888:secret:${name}-AbC123`)).toBe(false)
    }
  })

  it('creates the exemption group only when asked, so an existing group does not fail the stack', () => {
    const group = section(t, 'Resources')['ExemptionGroup']
    expect(group?.['Type']).toBe('AWS::IAM::Group')
    expect(group?.['Condition']).toBe('CreateGroup')
    expect(section(t, 'Conditions')['CreateGroup']).toEqual({
      'Fn::Equals': [{ Ref: 'CreateExemptionGroup' }, 'true']
    })
    expect(section(t, 'Parameters')['CreateExemptionGroup']?.['Default']).toBe('false')
  })
})

describe('management-list-accounts-role.yaml', () => {
  const file = 'management-list-accounts-role.yaml'

  it('reads the organization only, and its own stack', () => {
    const all = statementsOf(file, 'ListAccountsRole').flatMap(actionsOf)
    expect(
      all.every(a =>
        /^organizations:(Describe|List)|^cloudformation:(DescribeStacks|DetectStackDrift|DescribeStackDriftDetectionStatus)$|^iam:(GetRole|ListRolePolicies|GetRolePolicy|ListAttachedRolePolicies)$/.test(a)
      )
    ).toBe(true)
    const [own] = statementsOf(file, 'ListAccountsRole').filter(s =>
      actionsOf(s).includes('cloudformation:DescribeStacks')
    )
    expect(own?.body['Resource']).toEqual({ Ref: 'AWS::StackId' })
  })

  it('is trusted only by the central roles of the organization', () => {
    const trust = statementsOf(file, 'ListAccountsRole', 'trust')
    expect(trust.map(s => s.body)).toEqual([
      expect.objectContaining({
        Principal: {
          AWS: [
            { Ref: 'CentralRoleArn' },
            { 'Fn::If': ['TrustsAuditRole', { Ref: 'CentralAuditRoleArn' }, { Ref: 'AWS::NoValue' }] },
            { 'Fn::If': ['TrustsDryRunRole', { Ref: 'CentralDryRunRoleArn' }, { Ref: 'AWS::NoValue' }] }
          ]
        },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } }
      })
    ])
  })
})

describe('central-github-oidc.yaml', () => {
  const file = 'central-github-oidc.yaml'
  const t = template(file).template

  it('trusts the write role to the rotation workflow on the protected branch, in its environment', () => {
    const [trust, ...others] = statementsOf(file, 'CentralRole', 'trust')
    expect(others).toEqual([])
    expect(trust?.body['Action']).toBe('sts:AssumeRoleWithWebIdentity')
    const condition = trust?.body['Condition'] as Record<string, Record<string, unknown>>
    expect(Object.keys(condition)).toEqual(['StringEquals'])
    const equals = condition['StringEquals']
    expect(equals?.['token.actions.githubusercontent.com:aud']).toEqual({ Ref: 'Audience' })
    expect(render(equals?.['token.actions.githubusercontent.com:sub'])).toEqual([
      '${WriteRoleSubject}',
      'repo:${GitHubOrg}@${GitHubOwnerId}/${GitHubRepo}@${GitHubRepoId}:environment:${GitHubEnvironment}',
      'repo:${GitHubOrg}/${GitHubRepo}:environment:${GitHubEnvironment}'
    ])
    expect(render(equals?.['token.actions.githubusercontent.com:job_workflow_ref'])).toEqual([
      '${GitHubOrg}/${GitHubRepo}/.github/workflows/${WorkflowFile}@refs/heads/${GitHubBranch}'
    ])
    // The environment cannot be left out: the write role is never trusted by a bare branch.
    expect(section(t, 'Parameters')['GitHubEnvironment']?.['Default']).toBe('iam-key-rotation')
    expect(new RegExp(String(section(t, 'Parameters')['GitHubEnvironment']?.['AllowedPattern'])).test('')).toBe(false)
    expect(section(t, 'Parameters')['Audience']?.['Default']).toBe('sts.amazonaws.com')
    const provider = section(t, 'Resources')['GitHubOidcProvider']
    expect(provider?.['Condition']).toBe('CreateProvider')
    expect((provider?.['Properties'] as Record<string, unknown>)['Url']).toBe(
      'https://token.actions.githubusercontent.com'
    )
  })

  it('trusts the audit role to the rotation workflow on the protected branch, without the environment', () => {
    const [trust, ...others] = statementsOf(file, 'AuditRole', 'trust')
    expect(others).toEqual([])
    const condition = trust?.body['Condition'] as Record<string, Record<string, unknown>>
    expect(Object.keys(condition)).toEqual(['StringEquals'])
    expect(render(condition['StringEquals']?.['token.actions.githubusercontent.com:sub'])).toEqual([
      '${AuditRoleSubject}',
      'repo:${GitHubOrg}@${GitHubOwnerId}/${GitHubRepo}@${GitHubRepoId}:ref:refs/heads/${GitHubBranch}',
      'repo:${GitHubOrg}/${GitHubRepo}:ref:refs/heads/${GitHubBranch}'
    ])
    expect(render(condition['StringEquals']?.['token.actions.githubusercontent.com:job_workflow_ref'])).toEqual([
      '${GitHubOrg}/${GitHubRepo}/.github/workflows/${WorkflowFile}@refs/heads/${GitHubBranch}'
    ])
  })

  it('trusts the dry-run role to the rotation workflow as a pull request proposes it', () => {
    const [trust, ...others] = statementsOf(file, 'DryRunRole', 'trust')
    expect(others).toEqual([])
    const condition = trust?.body['Condition'] as Record<string, Record<string, unknown>>
    expect(render(condition['StringLike']?.['token.actions.githubusercontent.com:sub'])).toEqual([
      '${DryRunRoleSubjectPattern}',
      'repo:${GitHubOrg}@${GitHubOwnerId}/${GitHubRepo}@${GitHubRepoId}:pull_request',
      'repo:${GitHubOrg}/${GitHubRepo}:pull_request'
    ])
    expect(render(condition['StringLike']?.['token.actions.githubusercontent.com:job_workflow_ref'])).toEqual([
      '${GitHubOrg}/${GitHubRepo}/.github/workflows/${WorkflowFile}@refs/pull/*/merge'
    ])
  })

  it('checks the repository id on every role when it is given', () => {
    for (const role of ['CentralRole', 'AuditRole', 'DryRunRole']) {
      const [trust] = statementsOf(file, role, 'trust')
      expect(JSON.stringify(trust?.body['Condition']), role).toContain(
        '"token.actions.githubusercontent.com:repository_id":{"Fn::If":["RepositoryIdGiven",{"Ref":"GitHubRepoId"}'
      )
    }
    // The write role also checks the environment claim itself, whatever the subject override.
    const [write] = statementsOf(file, 'CentralRole', 'trust')
    expect(
      (write?.body['Condition'] as Record<string, Record<string, unknown>>)['StringEquals']?.[
        'token.actions.githubusercontent.com:environment'
      ]
    ).toEqual({ Ref: 'GitHubEnvironment' })
  })

  it('gives the dry-run role the audit role\'s grants, without email', () => {
    const grants = (role: string) =>
      statementsOf(file, role)
        .filter(s => s.body['Effect'] === 'Allow')
        .flatMap(actionsOf)
    expect(grants('DryRunRole').filter(a => a.startsWith('ses:'))).toEqual([])
    expect(new Set(grants('DryRunRole'))).toEqual(
      new Set(grants('AuditRole').filter(a => !a.startsWith('ses:')))
    )
  })

  it('assumes only the member, list-accounts and secrets roles, inside the organization', () => {
    const assume = (role: string) =>
      statementsOf(file, role).filter(
        s => s.body['Effect'] === 'Allow' && actionsOf(s).includes('sts:AssumeRole')
      )
    expect(assume('CentralRole').flatMap(resourcesOf)).toEqual([
      'arn:${AWS::Partition}:iam::*:role/${MemberRoleName}',
      'arn:${AWS::Partition}:iam::${ManagementAccountId}:role/${ListAccountsRoleName}',
      'arn:${AWS::Partition}:iam::${SecretsAccountId}:role/${RoleName}'
    ])
    // The audit and dry-run roles reach only the read-only member roles (and list accounts).
    for (const role of ['AuditRole', 'DryRunRole']) {
      expect(assume(role).flatMap(resourcesOf), role).toEqual([
        'arn:${AWS::Partition}:iam::*:role/${AuditMemberRoleName}',
        'arn:${AWS::Partition}:iam::${ManagementAccountId}:role/${ListAccountsRoleName}'
      ])
    }
  })

  it('gives the audit and dry-run roles no write: no StackSet change, no write member role', () => {
    for (const role of ['AuditRole', 'DryRunRole']) {
      const actions = statementsOf(file, role)
        .filter(s => s.body['Effect'] === 'Allow')
        .flatMap(actionsOf)
      expect(actions.filter(a => /^cloudformation:(Create|Update|Delete)/.test(a)), role).toEqual([])
      expect(
        actions.filter(a => /^(iam|secretsmanager|kms):/.test(a) && !/:(Get|List|Describe)/.test(a)),
        role
      ).toEqual([])
    }
  })

  it('sends email only as the sender address', () => {
    const [send] = statementsOf(file, 'CentralRole').filter(s => actionsOf(s).includes('ses:SendEmail'))
    expect(resourcesOf(send!)).toEqual([
      'arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Identity}'
    ])
    expect(send?.body['Condition']).toEqual({
      StringEquals: { 'ses:FromAddress': { Ref: 'SenderEmail' } }
    })
  })

  it('grants StackSet calls on the StackSet by name only, and stack calls on this stack only', () => {
    const ownStack = new Set([
      'cloudformation:DescribeStacks',
      'cloudformation:DetectStackDrift',
      'cloudformation:DescribeStackDriftDetectionStatus'
    ])
    const stackSet = statementsOf(file, 'CentralRole').filter(s =>
      actionsOf(s).some(a => a.startsWith('cloudformation:') && !ownStack.has(a))
    )
    const own = statementsOf(file, 'CentralRole').filter(s => actionsOf(s).some(a => ownStack.has(a)))
    for (const statement of own) {
      expect(statement.body['Resource'], statement.where).toEqual(
        actionsOf(statement).includes('cloudformation:DescribeStackDriftDetectionStatus')
          ? '*'
          : { Ref: 'AWS::StackId' }
      )
    }
    for (const statement of stackSet) {
      for (const resource of resourcesOf(statement)) {
        expect(resource, statement.where).toMatch(/(stackset|stackset-target)\/\$\{StackSetName\}:\*$|type\/resource\/AWS-IAM-\*$/)
      }
    }
  })
})

describe('central-secrets-kms.yaml', () => {
  const file = 'central-secrets-kms.yaml'
  const key = statementsOf(file, 'SecretsKey', 'key')

  it('lets the account administer the key without decrypting with it', () => {
    const admin = key.find(s => s.where.endsWith('AccountAdministersKey'))
    expect(admin?.body['Principal']).toEqual({ AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } })
    expect(actionsOf(admin!)).toContain('kms:PutKeyPolicy')
    expect(actionsOf(admin!)).not.toContain('kms:Decrypt')
  })

  it('lets the organization decrypt, and the secrets role encrypt, only through Secrets Manager', () => {
    // Any region's Secrets Manager: the same policy serves a multi-Region key's replicas.
    const viaSecretsManager = { 'kms:ViaService': 'secretsmanager.*.amazonaws.com' }
    const org = key.find(s => s.where.endsWith('OrganizationDecryptsThroughSecretsManager'))
    expect(actionsOf(org!)).toEqual(['kms:Decrypt'])
    expect(org?.body['Condition']).toEqual({
      StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } },
      StringLike: viaSecretsManager
    })
    const role = key.find(s => s.where.endsWith('SecretsRoleEncryptsThroughSecretsManager'))
    expect(actionsOf(role!)).toEqual(['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt'])
    expect(role?.body['Condition']).toEqual({
      StringLike: viaSecretsManager,
      ArnEquals: {
        'aws:PrincipalArn': {
          'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${SecretsRoleName}'
        }
      }
    })
    // Every statement that is not the administrators' is conditioned.
    for (const statement of key.filter(s => !s.where.endsWith('AccountAdministersKey'))) {
      expect(statement.body['Condition'], statement.where).toBeDefined()
    }
  })

  it('keeps the key when the stack goes', () => {
    const resource = section(template(file).template, 'Resources')['SecretsKey']
    expect(resource?.['DeletionPolicy']).toBe('Retain')
    expect(resource?.['UpdateReplacePolicy']).toBe('Retain')
  })
})

describe('vpc-endpoints.yaml', () => {
  it('creates interface endpoints for STS, Secrets Manager, SES (API) and CloudFormation', () => {
    const resources = section(template('vpc-endpoints.yaml').template, 'Resources')
    const services = Object.values(resources)
      .filter(r => r['Type'] === 'AWS::EC2::VPCEndpoint')
      .map(r => r['Properties'] as Record<string, unknown>)
    expect(services.map(p => render(p['ServiceName'])[0])).toEqual([
      'com.amazonaws.${AWS::Region}.sts',
      'com.amazonaws.${AWS::Region}.secretsmanager',
      'com.amazonaws.${AWS::Region}.email',
      'com.amazonaws.${AWS::Region}.cloudformation'
    ])
    for (const properties of services) {
      expect(properties['VpcEndpointType']).toBe('Interface')
      expect(properties['PrivateDnsEnabled']).toBe(true)
    }
    expect(Object.keys(section(template('vpc-endpoints.yaml').template, 'Parameters'))).toEqual(
      expect.arrayContaining(['VpcId', 'SubnetIds', 'IngressCidr'])
    )
  })
})

function bodyOf(file: string): string {
  return template(file).body
}

// alternatives() is part of the walk; keep it exercised for conditional statements.
describe('policy walk', () => {
  it('takes both branches of a conditional statement and drops AWS::NoValue', () => {
    expect(
      alternatives({ 'Fn::If': ['C', { Sid: 'A' }, { Ref: 'AWS::NoValue' }] })
    ).toEqual([{ Sid: 'A' }])
  })
})

// cfn-lint knows every resource type, property and IAM action; it runs where it is installed.
const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' })
describe.skipIf(cfnLint.status !== 0)('cfn-lint', () => {
  it('finds nothing in any template', () => {
    const files = TEMPLATES.map(t => join(CFN_DIR, t.file))
    const result = spawnSync('cfn-lint', ['--format', 'parseable', ...files], { encoding: 'utf8' })
    expect(result.stdout + result.stderr).toBe('')
    expect(result.status).toBe(0)
  })
})

describe('cfn/README.md', () => {
  it('has the permissions table the templates generate (npm run docs:permissions)', () => {
    const readme = readFileSync(join(CFN_DIR, 'README.md'), 'utf8')
    // Prettier pads the table's columns; compare cell by cell.
    const cells = (text: string) =>
      text
        .split('\n')
        .map(line => line.replace(/\s*\|\s*/g, '|').replace(/\|:?-{3,}:?(?=\|)/g, '|---').trim())
        .join('\n')
    expect(cells(readme)).toBe(cells(withCurrentTable(readme)))
  })
})
