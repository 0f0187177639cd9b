import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  UpdateStackSetCommand
} from '@aws-sdk/client-cloudformation'
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  ListAccessKeysCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand
} from '@aws-sdk/client-iam'
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ReplicateSecretToRegionsCommand,
  TagResourceCommand
} from '@aws-sdk/client-secrets-manager'
import { SendEmailCommand } from '@aws-sdk/client-ses'
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts'
import type { AwsCredentialIdentity } from '@smithy/types'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type World } from '../emulator/index.js'
import type { RequestLogEntry } from '../emulator/request-log.js'
import { DEFAULT_SENDER } from '../emulator/bootstrap.js'
import { rootCredentials } from '../emulator/callers.js'
import { asIdentity, assumeRole, clients } from '../emulator/support.js'
import { FakeGitHub } from '../issues/fake-github.js'
import { DRY_RUN_COMMENT_MARKER } from '../../src/issues/pull-request-comment.js'
import { ORG, planActions } from '../support/emulated-action.js'
import { memberTemplate } from '../support/emulator-clients.js'
import {
  auditClaims,
  DEFAULT_CLAIMS,
  immutableSubject,
  OWNER_ID,
  pullRequestClaims,
  REPO_ID,
  ROTATION_ENVIRONMENT,
  ROTATION_WORKFLOW,
  oidcToken,
  startOidcTokenServer,
  type OidcTokenServer,
  type TokenClaims
} from '../support/oidc-token-server.js'
import { runAction, type ActionRun } from '../support/run-action.js'
import type { Plan } from '../../src/plan/types.js'
import { testTempDir } from '../support/temp-dirs.js'

/**
 * Who earns which role (cfn/central-github-oidc.yaml), through dist/index.js and the OIDC path
 * while the emulator evaluates every trust and policy: the write chain only for the rotation
 * workflow on the protected branch in its environment, the read-only chain also for pull
 * requests, neither for other workflows; the read-only chain can change nothing; audit and dry
 * runs never ask for the write chain.
 */

const MANAGEMENT = ORG['management-account-id']
const CENTRAL = '999999999999'
const PROD = '222222222222'
const SENDER = DEFAULT_SENDER
const WRITE_ROLE = `arn:aws:iam::${CENTRAL}:role/iam-key-rotation-central`
const AUDIT_ROLE = `arn:aws:iam::${CENTRAL}:role/iam-key-rotation-central-audit`
const DRY_RUN_ROLE = `arn:aws:iam::${CENTRAL}:role/iam-key-rotation-central-dry-run`
const REPOSITORY = 'example-org/key-rotation'

/** The member roles come from the StackSet that each scenario's first enforce run deploys. */
function world(overrides: Partial<World> = {}): World {
  return {
    organizationId: ORG['organization-id'],
    managementAccountId: MANAGEMENT,
    central: { accountId: CENTRAL },
    bootstrap: { central: { DeployStacks: 'apply', SenderEmail: SENDER } },
    ses: { verifiedIdentities: [SENDER] },
    accounts: [
      { id: MANAGEMENT, name: 'management' },
      { id: CENTRAL, name: 'security-tooling' },
      {
        id: PROD,
        name: 'prod',
        users: [
          {
            name: 'ci-bot',
            tags: { owner: 'ci@example.com' },
            keys: [{ ageDays: 95, lastUsedDaysAgo: 1 }]
          },
          // Two active keys, one expired: blocked, and the scan checks its stored secret.
          {
            name: 'two-keys',
            keys: [
              { ageDays: 120, lastUsedDaysAgo: 1 },
              { ageDays: 20, lastUsedDaysAgo: 0 }
            ]
          },
          {
            name: 'break-glass',
            tags: { 'iam-key-rotation:protected': 'true' },
            keys: [{ ageDays: 400, lastUsedDaysAgo: 200 }]
          },
          { name: 'app-bot', path: '/apps/', keys: [{ ageDays: 95, lastUsedDaysAgo: 1 }] },
          // Enters its warning window today: its owner is mailed by any run of the day.
          {
            name: 'soon',
            tags: { owner: 'soon@example.com' },
            keys: [{ ageDays: 83, lastUsedDaysAgo: 1 }]
          }
        ]
      }
    ],
    ...overrides
  }
}

interface RunOptions {
  inputs?: Record<string, string>
  env?: Record<string, string>
}

/**
 * dist/index.js on the OIDC path only: no ambient credentials, so the request log shows exactly
 * the roles the run signed in with.
 */
async function run(
  emulator: Emulator,
  tokens: OidcTokenServer,
  options: RunOptions = {}
): Promise<ActionRun & { plan?: Plan }> {
  const result = await runAction({
    inputs: {
      ...ORG,
      'role-to-assume': WRITE_ROLE,
      'audit-role-to-assume': AUDIT_ROLE,
      'dry-run-role-to-assume': DRY_RUN_ROLE,
      'deploy-stacks': 'check',
      notify: 'false',
      'open-issues': 'false',
      ...options.inputs
    },
    env: {
      AWS_ENDPOINT_URL: emulator.url,
      ...tokens.env,
      ...options.env
    }
  })
  const dir = result.outputs['report-dir']
  const plan = dir ? (JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan) : undefined
  return { ...result, ...(plan ? { plan } : {}) }
}

/** The event payload of a pull_request run, as the runner writes it to GITHUB_EVENT_PATH. */
function pullRequestEvent(number: number, fork = false): Record<string, string> {
  const dir = testTempDir('key-rotation-event-')
  const path = join(dir, 'event.json')
  const head = fork ? 'someone/key-rotation' : REPOSITORY
  writeFileSync(
    path,
    JSON.stringify({
      pull_request: {
        number,
        head: { repo: { full_name: head, fork } },
        base: { repo: { full_name: REPOSITORY } }
      }
    })
  )
  return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path }
}

/** A mark in the emulator's request log, to look at the requests made after it. */
function mark(emulator: Emulator): () => RequestLogEntry[] {
  const before = emulator.requestCounts().total
  return () => {
    const count = emulator.requestCounts().total - before
    return count > 0 ? emulator.requests(count) : []
  }
}

/** The roles that made these requests. */
function rolesOf(entries: readonly RequestLogEntry[]): string[] {
  const names = entries
    .map(entry => /:assumed-role\/([^/]+)\//.exec(entry.caller)?.[1])
    .filter((name): name is string => name !== undefined)
  return [...new Set(names)].sort()
}

async function exchange(
  emulator: Emulator,
  roleArn: string,
  claims: TokenClaims
): Promise<AwsCredentialIdentity> {
  const response = await clients(emulator).sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'trust-test',
      WebIdentityToken: oidcToken(claims)
    })
  )
  return asIdentity(response.Credentials)
}

/** The error code a call is refused with, or "allowed". */
function denial(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'allowed',
    (error: unknown) => (error instanceof Error ? error.name : String(error))
  )
}

/** Runs `body` with the token server issuing `claims`, then back to DEFAULT_CLAIMS. */
async function withClaims<T>(
  tokens: OidcTokenServer,
  claims: TokenClaims,
  body: () => Promise<T>
): Promise<T> {
  tokens.setClaims(claims)
  try {
    return await body()
  } finally {
    tokens.setClaims(DEFAULT_CLAIMS)
  }
}

describe('trust: which workflow run earns which chain', () => {
  let emulator: Emulator
  let tokens: OidcTokenServer
  beforeAll(async () => {
    emulator = await startEmulator({ world: world() })
    tokens = await startOidcTokenServer()
    // The first enforce run creates the StackSet (both member roles) and rotates.
    const first = await run(emulator, tokens, {
      inputs: { mode: 'enforce', 'deploy-stacks': 'apply' }
    })
    expect(first.exitCode, first.stdout).toBe(0)
  })
  afterAll(async () => {
    await tokens.close()
    await emulator.close()
  })

  const runsOtherThanTheRotationWorkflow: [string, TokenClaims][] = [
    [
      'issue_comment (another workflow file on the default branch)',
      {
        sub: `repo:${REPOSITORY}:ref:refs/heads/main`,
        environment: undefined,
        event_name: 'issue_comment',
        job_workflow_ref: `${REPOSITORY}/.github/workflows/comment-bot.yml@refs/heads/main`
      }
    ],
    [
      'pull_request_target (another workflow file, even in the environment)',
      {
        event_name: 'pull_request_target',
        job_workflow_ref: `${REPOSITORY}/.github/workflows/triage.yml@refs/heads/main`
      }
    ],
    [
      'workflow_run (another workflow file on the default branch)',
      {
        sub: `repo:${REPOSITORY}:ref:refs/heads/main`,
        environment: undefined,
        event_name: 'workflow_run',
        job_workflow_ref: `${REPOSITORY}/.github/workflows/after-ci.yml@refs/heads/main`
      }
    ]
  ]

  it.each(runsOtherThanTheRotationWorkflow)('%s gets no role', async (_, claims) => {
    for (const role of [WRITE_ROLE, AUDIT_ROLE, DRY_RUN_ROLE]) {
      expect(await denial(exchange(emulator, role, claims)), role).toBe('AccessDenied')
    }
  })

  it('the write chain refuses another branch and a job without the environment', async () => {
    const otherBranch: TokenClaims = {
      ref: 'refs/heads/feature',
      job_workflow_ref: `${ROTATION_WORKFLOW}@refs/heads/feature`
    }
    const noEnvironment = auditClaims()
    expect(await denial(exchange(emulator, WRITE_ROLE, otherBranch))).toBe('AccessDenied')
    expect(await denial(exchange(emulator, WRITE_ROLE, noEnvironment))).toBe('AccessDenied')
    expect(await denial(exchange(emulator, WRITE_ROLE, pullRequestClaims(7)))).toBe('AccessDenied')
    // The audit role takes the branch run without the environment (an audit job cannot get the
    // write role); the dry-run role only the pull request.
    expect(await denial(exchange(emulator, AUDIT_ROLE, noEnvironment))).toBe('allowed')
    expect(await denial(exchange(emulator, AUDIT_ROLE, otherBranch))).toBe('AccessDenied')
    expect(await denial(exchange(emulator, AUDIT_ROLE, pullRequestClaims(7)))).toBe('AccessDenied')
    expect(await denial(exchange(emulator, DRY_RUN_ROLE, pullRequestClaims(7)))).toBe('allowed')
    expect(await denial(exchange(emulator, DRY_RUN_ROLE, noEnvironment))).toBe('AccessDenied')
    expect(await denial(exchange(emulator, DRY_RUN_ROLE, {}))).toBe('AccessDenied')

    // Through the action: enforce from a pull request's token is refused at sign-in.
    const refused = await withClaims(tokens, noEnvironment, () =>
      run(emulator, tokens, { inputs: { mode: 'enforce' } })
    )
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toContain(`Could not assume ${WRITE_ROLE} with the GitHub OIDC token`)
  })

  it('the read-only chain is denied every write the action knows; a pull request cannot mail', async () => {
    const dryRun = await exchange(emulator, DRY_RUN_ROLE, pullRequestClaims(7))
    const central = clients(emulator, { credentials: dryRun })
    // Whoever can push a branch controls a pull request's run: no mail from the company's sender.
    expect(
      await denial(
        central.ses.send(
          new SendEmailCommand({
            Source: SENDER,
            Destination: { ToAddresses: ['anyone@example.com'] },
            Message: { Subject: { Data: 'x' }, Body: { Text: { Data: 'x' } } }
          })
        )
      )
    ).toBe('AccessDenied')
    // Not the write member role, and no StackSet change.
    expect(
      await denial(
        central.sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${PROD}:role/iam-key-rotation-member`,
            RoleSessionName: 'trust-test'
          })
        )
      )
    ).toBe('AccessDenied')
    const stackSet = { StackSetName: 'iam-key-rotation-member', CallAs: 'DELEGATED_ADMIN' as const }
    for (const command of [
      new CreateStackSetCommand({
        ...stackSet,
        TemplateBody: memberTemplate(),
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        PermissionModel: 'SERVICE_MANAGED',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false }
      }),
      new UpdateStackSetCommand({ ...stackSet, UsePreviousTemplate: true }),
      new CreateStackInstancesCommand({ ...stackSet, Regions: ['us-east-1'], Accounts: [PROD] })
    ]) {
      expect(
        await denial(central.cloudformation.send(command as never)),
        command.constructor.name
      ).toBe('AccessDenied')
    }
    const member = clients(emulator, {
      credentials: await assumeRole(emulator, PROD, 'iam-key-rotation-member-audit', {
        credentials: dryRun
      })
    })
    const keys = await member.iam.send(new ListAccessKeysCommand({ UserName: 'ci-bot' }))
    const keyId = keys.AccessKeyMetadata?.[0]?.AccessKeyId ?? ''
    const user = { UserName: 'ci-bot' }
    const iamWrites = [
      new CreateAccessKeyCommand(user),
      new UpdateAccessKeyCommand({ ...user, AccessKeyId: keyId, Status: 'Inactive' }),
      new DeleteAccessKeyCommand({ ...user, AccessKeyId: keyId }),
      new TagUserCommand({ ...user, Tags: [{ Key: `iam-key-rotation:${keyId}`, Value: 'x' }] }),
      new UntagUserCommand({ ...user, TagKeys: [`iam-key-rotation:${keyId}`] }),
      new AttachUserPolicyCommand({
        ...user,
        PolicyArn: `arn:aws:iam::${PROD}:policy/iam-key-rotation-read-own-secret`
      })
    ]
    for (const command of iamWrites) {
      expect(await denial(member.iam.send(command as never)), command.constructor.name).toBe(
        'AccessDenied'
      )
    }
    const secretId = `iam-key-rotation/${PROD}/ci-bot`
    const secretWrites = [
      new CreateSecretCommand({ Name: `iam-key-rotation/${PROD}/new`, SecretString: 'x' }),
      new PutSecretValueCommand({ SecretId: secretId, SecretString: 'x' }),
      new PutResourcePolicyCommand({ SecretId: secretId, ResourcePolicy: '{}' }),
      new TagResourceCommand({
        SecretId: secretId,
        Tags: [{ Key: 'iam-key-rotation:x', Value: 'x' }]
      }),
      new ReplicateSecretToRegionsCommand({
        SecretId: secretId,
        AddReplicaRegions: [{ Region: 'eu-west-1' }]
      }),
      new GetSecretValueCommand({ SecretId: secretId })
    ]
    for (const command of secretWrites) {
      expect(await denial(member.secrets.send(command as never)), command.constructor.name).toBe(
        'AccessDeniedException'
      )
    }
  })

  it('an audit signs in with the read-only chain only, and never asks for the write chain', async () => {
    const since = mark(emulator)
    const audit = await withClaims(tokens, auditClaims(), () =>
      run(emulator, tokens, { inputs: { mode: 'audit', notify: 'true', 'sender-email': SENDER } })
    )
    expect(audit.exitCode, audit.stdout).toBe(0)
    expect(audit.stdout).toContain(
      `Signed in as arn:aws:sts::${CENTRAL}:assumed-role/iam-key-rotation-central-audit/`
    )
    expect(audit.stdout).not.toContain('::warning::This audit signs in with the write role')
    expect(rolesOf(since())).toEqual([
      'iam-key-rotation-central-audit',
      'iam-key-rotation-list-accounts',
      'iam-key-rotation-member-audit'
    ])
    // The StackSet check and the owners' mails work with the read-only chain.
    expect(audit.plan?.deployment).toMatchObject({ mode: 'check', status: 'current' })
    expect(audit.plan?.notifications?.sent.map(mail => mail.to)).toContain('soon@example.com')
    expect(audit.plan?.mode).toBe('audit')
  })

  it('a protected user and a user outside user-path are exempt, and the member role cannot change them', async () => {
    const audit = await withClaims(tokens, auditClaims(), () =>
      run(emulator, tokens, { inputs: { mode: 'audit', 'user-path': '/apps/' } })
    )
    const users = audit.plan?.accounts.find(a => a.accountId === PROD)?.users ?? []
    const note = (name: string) => users.find(u => u.userName === name)?.notes
    expect(note('break-glass')).toEqual([
      'Exempt (tagged iam-key-rotation:protected=true): not evaluated.'
    ])
    expect(note('two-keys')).toEqual(['Exempt (outside user-path): not evaluated.'])
    // app-bot, under /apps/, is evaluated (its rotation of the first run is under way).
    expect(
      users
        .filter(u => u.exempt)
        .map(u => u.userName)
        .sort()
    ).toEqual(['break-glass', 'ci-bot', 'soon', 'two-keys'])

    // The template is the guarantee: even the write member role cannot touch break-glass or its tag.
    const write = await exchange(emulator, WRITE_ROLE, {})
    const member = clients(emulator, {
      credentials: await assumeRole(emulator, PROD, 'iam-key-rotation-member', {
        credentials: write
      })
    })
    const guarded = { UserName: 'break-glass' }
    expect(await denial(member.iam.send(new CreateAccessKeyCommand(guarded)))).toBe('AccessDenied')
    expect(
      await denial(
        member.iam.send(
          new UntagUserCommand({ ...guarded, TagKeys: ['iam-key-rotation:protected'] })
        )
      )
    ).toBe('AccessDenied')
    expect(
      await denial(
        member.iam.send(
          new TagUserCommand({
            UserName: 'ci-bot',
            Tags: [{ Key: 'iam-key-rotation:protected', Value: 'false' }]
          })
        )
      )
    ).toBe('AccessDenied')
    // It never reads a key, whatever resource policy it writes for itself.
    const secretId = `iam-key-rotation/${PROD}/ci-bot`
    const own = `arn:aws:sts::${PROD}:assumed-role/iam-key-rotation-member/trust-test`
    await member.secrets.send(
      new PutResourcePolicyCommand({
        SecretId: secretId,
        BlockPublicPolicy: true,
        ResourcePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${PROD}:role/iam-key-rotation-member` },
              Action: 'secretsmanager:GetSecretValue',
              Resource: '*'
            }
          ]
        })
      })
    )
    const read = await denial(
      member.secrets.send(new GetSecretValueCommand({ SecretId: secretId }))
    )
    expect(read, own).toBe('AccessDeniedException')
    // Without Secrets Manager's public-policy check it may not write a policy at all.
    expect(
      await denial(
        member.secrets.send(
          new PutResourcePolicyCommand({ SecretId: secretId, ResourcePolicy: '{}' })
        )
      )
    ).toBe('AccessDeniedException')
  })

  it('the read-only chain checks an unsigned record against the earlier version’s secret, which must be the tool’s', async () => {
    // Made to look like release 0.1.0's: a replacement key, its secret and an unsigned record,
    // but the key is newer than the state key, so no earlier version made it.
    const admin = clients(emulator, { credentials: rootCredentials(PROD) })
    const [old] = (await admin.iam.send(new ListAccessKeysCommand({ UserName: 'soon' })))
      .AccessKeyMetadata!
    const made = (await admin.iam.send(new CreateAccessKeyCommand({ UserName: 'soon' }))).AccessKey!
    await admin.secrets.send(
      new CreateSecretCommand({
        Name: `iam-key-rotation/${PROD}/soon`,
        SecretString: '{}',
        Tags: [{ Key: 'iam-key-rotation:access-key-id', Value: made.AccessKeyId! }]
      })
    )
    const at = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z')
    // The earlier enforce run signed a record of this key (it announced its warning): 0.1.0
    // wrote no signature, so the forgery drops it.
    await admin.iam.send(
      new UntagUserCommand({
        UserName: 'soon',
        TagKeys: [`iam-key-rotation:sig:${old!.AccessKeyId!}`]
      })
    )
    await admin.iam.send(
      new TagUserCommand({
        UserName: 'soon',
        Tags: [
          {
            Key: `iam-key-rotation:${old!.AccessKeyId!}`,
            Value: `created=${at(old!.CreateDate!)} rotated=${at(made.CreateDate!)} replacement=${made.AccessKeyId!}`
          }
        ]
      })
    )
    const since = mark(emulator)
    const audit = await withClaims(tokens, auditClaims(), () =>
      run(emulator, tokens, { inputs: { mode: 'audit' } })
    )
    expect(audit.exitCode, audit.stdout).toBe(0)
    const soon = audit.plan?.accounts.flatMap(a => a.users).find(u => u.userName === 'soon')
    expect(soon?.stateFindings?.map(f => f.problem)).toEqual([
      expect.stringMatching(/created after signed state began/)
    ])
    // An unmarked secret made since signed state began is not the tool's: it confirms nothing,
    // and it is read with the audit member role (listed, its policy and replicas checked), never its value.
    const reads = since()
      .filter(entry => entry.service === 'secretsmanager' && entry.caller.includes('member-audit'))
      .map(entry => entry.operation)
    expect(new Set(reads)).toEqual(new Set(['ListSecrets', 'GetResourcePolicy', 'DescribeSecret']))
  })

  it('the read-only chain asks IAM whether a user can read its new key before it plans the deactivation', async () => {
    // Day 100 of the rotations the first run made. With replicas asked for, each secret is also
    // described (it has none yet: a repair the audit plans).
    emulator.advanceDays(10)
    const since = mark(emulator)
    const audit = await withClaims(tokens, auditClaims(), () =>
      run(emulator, tokens, { inputs: { mode: 'audit', 'secret-replica-regions': 'us-west-2' } })
    )
    expect(audit.exitCode, audit.stdout).toBe(0)
    const user = (name: string) =>
      audit.plan?.accounts.flatMap(a => a.users).find(u => u.userName === name)
    expect(user('app-bot')?.actions.map(a => [a.type, a.reason, a.result])).toEqual([
      ['DEACTIVATE', 'INSTALL_GRACE_PERIOD_END', 'planned']
    ])
    // An earlier test wrote its own resource policy on ci-bot's secret: that user's old key waits.
    expect(user('ci-bot')?.actions.map(a => [a.type, a.reason, a.detail])).toEqual([
      [
        'WARN',
        'DEACTIVATION_WAITS_FOR_NEW_KEY',
        expect.stringMatching(/has a resource policy other than the owner-only one/) as unknown
      ]
    ])
    const byAudit = since()
      .filter(entry => entry.caller.includes('member-audit'))
      .map(entry => `${entry.service}:${entry.operation}`)
    expect(byAudit).toEqual(
      expect.arrayContaining([
        'iam:SimulatePrincipalPolicy',
        'secretsmanager:DescribeSecret',
        'secretsmanager:ListSecretVersionIds'
      ])
    )
  })
})

describe('pull requests get a read-only dry run', () => {
  let emulator: Emulator
  let tokens: OidcTokenServer
  let github: FakeGitHub
  beforeAll(async () => {
    // Without the credential report, the read-only chain also reads each key's last use.
    emulator = await startEmulator({
      world: world({ faults: { credentialReportUnavailable: [PROD] } })
    })
    // The rotation's first enforce run deploys the StackSet; then the pull request's runs.
    tokens = await startOidcTokenServer()
    const first = await run(emulator, tokens, {
      inputs: { mode: 'enforce', 'deploy-stacks': 'apply', accounts: CENTRAL }
    })
    expect(first.exitCode, first.stdout).toBe(0)
    tokens.setClaims(pullRequestClaims(7))
    github = new FakeGitHub()
    await github.start()
    github.addIssue({
      title: 'Rotate with the new policy',
      body: '',
      labels: [],
      pullRequest: true
    })
  })
  afterAll(async () => {
    await tokens.close()
    await github.stop()
    await emulator.close()
  })

  const dryRun = () =>
    run(emulator, tokens, {
      // The proposed configuration, as the pull request's copy of the workflow has it.
      inputs: {
        mode: 'enforce',
        'deploy-stacks': 'apply',
        'central-stack-name': 'iam-key-rotation-central',
        notify: 'true',
        'sender-email': SENDER,
        'open-issues': 'true',
        'github-token': 'loopback-github-token-for-tests'
      },
      env: {
        ...pullRequestEvent(1),
        GITHUB_API_URL: github.baseUrl,
        GITHUB_REPOSITORY: `${github.owner}/${github.repo}`,
        GITHUB_SERVER_URL: 'https://github.example'
      }
    })

  it('plans with the read-only chain, mails nobody, opens no issue, and keeps one comment up to date', async () => {
    const since = mark(emulator)
    const first = await dryRun()
    expect(first.exitCode, first.stdout).toBe(0)
    expect(first.plan?.mode).toBe('audit')
    expect(first.stdout).toContain('Pull request #1: a dry run of the proposed configuration')
    expect(rolesOf(since())).toEqual([
      'iam-key-rotation-central-dry-run',
      'iam-key-rotation-list-accounts',
      'iam-key-rotation-member-audit'
    ])
    // apply in the proposed configuration only checks; the central stack is compared too.
    expect(first.plan?.deployment).toMatchObject({ mode: 'check', status: 'current' })
    expect(first.plan?.deployment?.centralStacks?.[0]).toMatchObject({
      name: 'iam-key-rotation-central',
      status: 'CREATE_COMPLETE'
    })
    expect(planActions(first.plan!).map(a => [a.user, a.type, a.result])).toContainEqual([
      'ci-bot',
      'ROTATE',
      'planned'
    ])
    expect(emulator.emails()).toEqual([])
    const pr = github.issues.find(issue => issue.number === 1)
    expect(pr?.comments).toHaveLength(1)
    expect(pr?.comments[0]).toContain(DRY_RUN_COMMENT_MARKER)
    expect(pr?.comments[0]).toContain('https://github.example/acme/infra/actions/runs/1234567890')
    expect(github.issues.filter(issue => !issue.pullRequest)).toEqual([])

    // The next push: the same comment is updated, not a second one added.
    emulator.advanceDays(3)
    const second = await dryRun()
    expect(second.exitCode, second.stdout).toBe(0)
    expect(second.stdout).toContain('Dry run: pull request #1 comment updated.')
    expect(pr?.comments).toHaveLength(1)
    expect(
      github.requests.filter(r => r.method === 'POST' && /comments$/.test(r.path))
    ).toHaveLength(1)
  })

  it('a change that breaks the inputs replaces the plan in the comment with the error', async () => {
    const broken = await run(emulator, tokens, {
      inputs: {
        'rotation-period-days': 'ninety',
        'github-token': 'loopback-github-token-for-tests'
      },
      env: {
        ...pullRequestEvent(1),
        GITHUB_API_URL: github.baseUrl,
        GITHUB_REPOSITORY: `${github.owner}/${github.repo}`
      }
    })
    expect(broken.exitCode).toBe(1)
    const pr = github.issues.find(issue => issue.number === 1)
    expect(pr?.comments).toHaveLength(1)
    expect(pr?.comments[0]).toContain('**Dry run of this pull request failed**')
    expect(pr?.comments[0]).toContain('Input "rotation-period-days" is "ninety"')
    expect(pr?.comments[0]).not.toContain('loopback-github-token-for-tests')
  })

  it('a pull request from a fork gets a clear line, not a failure', async () => {
    const since = mark(emulator)
    const fork = await runAction({
      inputs: { ...ORG, 'dry-run-role-to-assume': DRY_RUN_ROLE, notify: 'false' },
      env: {
        AWS_ENDPOINT_URL: emulator.url,
        ...pullRequestEvent(2, true)
      }
    })
    expect(fork.exitCode, fork.stdout).toBe(0)
    expect(fork.stdout).toContain('::notice::Dry run unavailable for forks')
    expect(fork.summary).toContain('Dry run unavailable for forks')
    expect(since()).toEqual([])
  })

  it('needs the dry-run role: without it, the run stops before any AWS call', async () => {
    const since = mark(emulator)
    const refused = await run(emulator, tokens, {
      inputs: { 'dry-run-role-to-assume': '' },
      env: pullRequestEvent(3)
    })
    expect(refused.exitCode).toBe(1)
    expect(refused.stdout).toContain('Input "dry-run-role-to-assume" is empty')
    expect(since()).toEqual([])
  })
})

describe('immutable subjects and exact-subject overrides', () => {
  it('trusts the immutable form when the ids are set, and not the classic one', async () => {
    const emulator = await startEmulator({
      world: world({
        bootstrap: {
          central: {
            DeployStacks: 'apply',
            SenderEmail: SENDER,
            GitHubOwnerId: OWNER_ID,
            GitHubRepoId: REPO_ID
          }
        }
      })
    })
    try {
      const immutable: TokenClaims = { sub: immutableSubject(ROTATION_ENVIRONMENT) }
      expect(await denial(exchange(emulator, WRITE_ROLE, immutable))).toBe('allowed')
      // A repository re-created under the same name has another id.
      expect(
        await denial(exchange(emulator, WRITE_ROLE, { ...immutable, repository_id: '9' }))
      ).toBe('AccessDenied')
      expect(await denial(exchange(emulator, WRITE_ROLE, {}))).toBe('AccessDenied')
      expect(
        await denial(
          exchange(emulator, DRY_RUN_ROLE, {
            ...pullRequestClaims(4),
            sub: `repo:example-org@${OWNER_ID}/key-rotation@${REPO_ID}:pull_request`
          })
        )
      ).toBe('allowed')
      expect(
        await denial(exchange(emulator, AUDIT_ROLE, { ...auditClaims(), sub: immutableSubject() }))
      ).toBe('allowed')
      const tokens = await startOidcTokenServer(immutable)
      try {
        const enforce = await run(emulator, tokens, {
          inputs: { mode: 'enforce', 'deploy-stacks': 'apply' }
        })
        expect(enforce.exitCode, enforce.stdout).toBe(0)
        expect(planActions(enforce.plan!).filter(a => a.result === 'done').length).toBeGreaterThan(
          0
        )
      } finally {
        await tokens.close()
      }
    } finally {
      await emulator.close()
    }
  })

  it('takes exact subjects, and a pattern for pull requests, for a customised subject template', async () => {
    // A subject template with job_workflow_ref: pull-request subjects change with each pull request.
    const write = `repo:${REPOSITORY}:environment:iam-key-rotation:job_workflow_ref:${ROTATION_WORKFLOW}@refs/heads/main`
    const pullRequest = (n: number) =>
      `repo:${REPOSITORY}:pull_request:job_workflow_ref:${ROTATION_WORKFLOW}@refs/pull/${n}/merge`
    const emulator = await startEmulator({
      world: world({
        bootstrap: {
          central: {
            SenderEmail: SENDER,
            WriteRoleSubject: write,
            DryRunRoleSubjectPattern: `repo:${REPOSITORY}:pull_request:job_workflow_ref:${ROTATION_WORKFLOW}@refs/pull/*/merge`
          }
        }
      })
    })
    try {
      expect(await denial(exchange(emulator, WRITE_ROLE, { sub: write }))).toBe('allowed')
      expect(await denial(exchange(emulator, WRITE_ROLE, {}))).toBe('AccessDenied')
      // The environment is still checked on its own claim.
      expect(
        await denial(exchange(emulator, WRITE_ROLE, { sub: write, environment: undefined }))
      ).toBe('AccessDenied')
      expect(
        await denial(
          exchange(emulator, DRY_RUN_ROLE, { ...pullRequestClaims(5), sub: pullRequest(5) })
        )
      ).toBe('allowed')
      expect(await denial(exchange(emulator, DRY_RUN_ROLE, pullRequestClaims(5)))).toBe(
        'AccessDenied'
      )
    } finally {
      await emulator.close()
    }
  })
})
