import { describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  getInputs,
  INPUT_NAMES,
  InputErrors,
  runContextFromEnv,
  splitList,
  type InputName,
  type RunContext
} from '../src/inputs.js'
import { testTempDir } from './support/temp-dirs.js'

const REQUIRED: Partial<Record<InputName, string>> = {
  'organization-id': 'o-a1b2c3d4e5',
  'management-account-id': '111111111111',
  'sender-email': 'security@example.com'
}

function inputs(overrides: Partial<Record<InputName, string>> = {}, run?: RunContext) {
  const values = { ...REQUIRED, ...overrides }
  return getInputs(name => values[name] ?? '', run)
}

function inputError(overrides: Partial<Record<InputName, string>>): string {
  try {
    inputs(overrides)
  } catch (error) {
    expect(error).toBeInstanceOf(InputErrors)
    return (error as Error).message
  }
  throw new Error('expected an input error')
}

describe('getInputs', () => {
  it('applies the documented defaults', () => {
    const config = inputs()
    expect(config).toMatchObject({
      mode: 'audit',
      awsRegion: 'us-east-1',
      audience: 'sts.amazonaws.com',
      listAccountsRoleName: 'iam-key-rotation-list-accounts',
      memberRoleName: 'iam-key-rotation-member',
      exemptionGroup: 'IAMKeyRotationExemptionGroup',
      policy: {
        rotationDays: 90,
        installationGraceDays: 10,
        recoveryGraceDays: 10,
        warningDays: 7,
        conflictResolution: 'issue'
      },
      reminderDays: [1],
      secrets: { location: 'member', roleName: 'iam-key-rotation-member' },
      notify: { enabled: true, notifyAccountEmail: true, ownerEmailDomains: [], maxEmails: 200 },
      deploy: {
        mode: 'check',
        stackSetName: 'iam-key-rotation-member',
        stackSetRegions: ['us-east-1']
      },
      reportDir: 'key-rotation-report',
      maxConcurrency: 8,
      failOnAccountError: true
    })
    expect(config.roleToAssume).toBeUndefined()
    expect(config.shard).toBeUndefined()
  })

  it('returns a deeply frozen configuration', () => {
    const config = inputs({ accounts: '222222222222' })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.policy)).toBe(true)
    expect(Object.isFrozen(config.accounts)).toBe(true)
  })

  it.each<
    [string, Partial<Record<InputName, string>>, (c: ReturnType<typeof inputs>) => unknown, unknown]
  >([
    ['enforce mode', { mode: 'enforce' }, c => c.mode, 'enforce'],
    [
      'a role ARN',
      { 'role-to-assume': 'arn:aws:iam::123456789012:role/central' },
      c => c.roleToAssume,
      'arn:aws:iam::123456789012:role/central'
    ],
    [
      'a GovCloud role ARN',
      { 'role-to-assume': 'arn:aws-us-gov:iam::123456789012:role/path/central' },
      c => c.roleToAssume,
      'arn:aws-us-gov:iam::123456789012:role/path/central'
    ],
    [
      'account lists on commas and newlines',
      { accounts: '222222222222, 333333333333\n444444444444\n' },
      c => c.accounts,
      ['222222222222', '333333333333', '444444444444']
    ],
    [
      'duplicate accounts once',
      { 'exclude-accounts': '222222222222,222222222222' },
      c => c.excludeAccounts,
      ['222222222222']
    ],
    [
      'OUs and roots',
      { 'organizational-units': 'ou-ab12-cdef5678\nr-ab12' },
      c => c.organizationalUnits,
      ['ou-ab12-cdef5678', 'r-ab12']
    ],
    [
      'inactive-period-days derives Gi',
      { 'inactive-period-days': '100', 'rotation-period-days': '80' },
      c => c.policy.installationGraceDays,
      20
    ],
    [
      'consistent inactive-period and grace',
      { 'inactive-period-days': '100', 'installation-grace-days': '10' },
      c => c.policy.installationGraceDays,
      10
    ],
    ['W = 0', { 'warning-days': '0' }, c => c.policy.warningDays, 0],
    [
      'W = R − 1',
      { 'warning-days': '29', 'rotation-period-days': '30' },
      c => c.policy.warningDays,
      29
    ],
    [
      'R = 1 with W = 0',
      { 'rotation-period-days': '1', 'warning-days': '0' },
      c => c.policy.rotationDays,
      1
    ],
    [
      'force-rotate entries',
      { 'force-rotate': '222222222222:ci-bot\nvendor.sync@x' },
      c => c.forceRotate,
      [{ accountId: '222222222222', userName: 'ci-bot' }, { userName: 'vendor.sync@x' }]
    ],
    ['shard K/N', { shard: '2/4' }, c => c.shard, { index: 2, count: 4 }],
    ['shard N/N', { shard: '3/3' }, c => c.shard, { index: 3, count: 3 }],
    ['lru', { 'conflict-resolution': 'lru' }, c => c.policy.conflictResolution, 'lru'],
    [
      'central secrets',
      {
        'secrets-location': 'central',
        'secrets-account-id': '999999999999',
        'kms-key-id': 'arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab'
      },
      c => c.secrets.accountId,
      '999999999999'
    ],
    [
      'notify off without sender',
      { notify: 'false', 'sender-email': '' },
      c => c.notify.enabled,
      false
    ],
    [
      'booleans in YAML core spelling',
      { 'fail-on-account-error': 'FALSE' },
      c => c.failOnAccountError,
      false
    ],
    ['empty owner tag disables owner mail', { 'owner-tag': '' }, c => c.notify.ownerTag, undefined],
    [
      'stackset regions',
      { 'stackset-regions': 'eu-west-1,us-east-1' },
      c => c.deploy.stackSetRegions,
      ['eu-west-1', 'us-east-1']
    ],
    [
      'replica regions',
      { 'secret-replica-regions': 'eu-west-1' },
      c => c.secrets.replicaRegions,
      ['eu-west-1']
    ],
    ['reminder days', { 'reminder-days': '3, 1' }, c => c.reminderDays, [3, 1]],
    ['max concurrency 64', { 'max-concurrency': '64' }, c => c.maxConcurrency, 64],
    ['max-emails 0 (only the notice)', { 'max-emails': '0' }, c => c.notify.maxEmails, 0],
    ['max-emails 5000', { 'max-emails': ' 5000 ' }, c => c.notify.maxEmails, 5000],
    [
      'owner-email-domains in lowercase, once each',
      {
        'owner-email-domains':
          'Example.COM, *.corp.example.com\nexample.com # again\nxn--bcher-kva.de'
      },
      c => c.notify.ownerEmailDomains,
      ['example.com', '*.corp.example.com', 'xn--bcher-kva.de']
    ],
    [
      'comments in lists',
      { accounts: '222222222222 # prod\n# none\n' },
      c => c.accounts,
      ['222222222222']
    ]
  ])('accepts %s', (_name, overrides, pick, expected) => {
    expect(pick(inputs(overrides))).toEqual(expected)
  })

  it.each<[Partial<Record<InputName, string>>, InputName, string]>([
    [{ mode: 'apply' }, 'mode', '"audit", "enforce"'],
    [{ mode: 'Enforce' }, 'mode', '"audit", "enforce"'],
    [{ 'aws-region': 'us-east' }, 'aws-region', 'AWS region'],
    [{ 'role-to-assume': 'central-role' }, 'role-to-assume', 'IAM role ARN'],
    [{ 'role-to-assume': 'arn:aws:iam::12345:role/x' }, 'role-to-assume', 'IAM role ARN'],
    [{ 'audit-role-to-assume': 'audit' }, 'audit-role-to-assume', 'IAM role ARN'],
    [{ 'audit-member-role-name': 'a b' }, 'audit-member-role-name', 'IAM role name'],
    [{ 'include-management-account': 'yes' }, 'include-management-account', '"true" or "false"'],
    [{ 'user-path': 'apps' }, 'user-path', 'IAM path'],
    [{ 'user-path': '/apps' }, 'user-path', 'IAM path'],
    [{ 'user-path': '/a//b/' }, 'user-path', 'IAM path'],
    [
      { mode: 'enforce', 'audit-role-to-assume': 'arn:aws:iam::111111111111:role/audit' },
      'role-to-assume',
      'is required when mode is "enforce"'
    ],
    [{ 'organization-id': '' }, 'organization-id', 'is required'],
    [{ 'organization-id': 'o-ABC1234567' }, 'organization-id', '10 to 32 lowercase'],
    [{ 'organization-id': 'o-abc' }, 'organization-id', '10 to 32 lowercase'],
    [{ 'management-account-id': '' }, 'management-account-id', 'is required'],
    [{ 'management-account-id': '11111111111' }, 'management-account-id', '12-digit'],
    [{ accounts: '222222222222,abc' }, 'accounts', '12-digit'],
    [{ 'exclude-accounts': '1234567890123' }, 'exclude-accounts', '12-digit'],
    [{ 'organizational-units': 'prod' }, 'organizational-units', 'organizational unit id'],
    [{ 'member-role-name': 'bad role' }, 'member-role-name', 'IAM role name'],
    [{ 'list-accounts-role-name': 'x'.repeat(65) }, 'list-accounts-role-name', 'IAM role name'],
    [{ 'exemption-group': 'a/b' }, 'exemption-group', 'IAM group name'],
    [{ 'rotation-period-days': '0' }, 'rotation-period-days', 'whole number ≥ 1'],
    [{ 'rotation-period-days': '90.5' }, 'rotation-period-days', 'whole number'],
    [{ 'rotation-period-days': 'ninety' }, 'rotation-period-days', 'whole number'],
    [{ 'installation-grace-days': '0' }, 'installation-grace-days', 'whole number ≥ 1'],
    [{ 'recovery-grace-days': '0' }, 'recovery-grace-days', 'whole number ≥ 1'],
    [{ 'recovery-grace-days': '-1' }, 'recovery-grace-days', 'whole number'],
    [{ 'warning-days': '90' }, 'warning-days', 'less than rotation-period-days (90)'],
    [{ 'warning-days': '-1' }, 'warning-days', 'whole number'],
    [{ 'inactive-period-days': '90' }, 'inactive-period-days', 'greater than rotation-period-days'],
    [
      { 'inactive-period-days': '100', 'installation-grace-days': '5' },
      'inactive-period-days',
      'contradicts installation-grace-days'
    ],
    [{ 'reminder-days': 'soon' }, 'reminder-days', 'whole numbers'],
    [{ 'force-rotate': '22222222222:ci-bot' }, 'force-rotate', 'ACCOUNT_ID:USER'],
    [{ 'force-rotate': 'a:b:c' }, 'force-rotate', 'ACCOUNT_ID:USER'],
    [{ 'force-rotate': 'bad user' }, 'force-rotate', 'ACCOUNT_ID:USER'],
    [{ 'conflict-resolution': 'oldest' }, 'conflict-resolution', '"issue", "lru"'],
    [{ 'secrets-location': 'vault' }, 'secrets-location', '"member", "central"'],
    [
      { 'secrets-location': 'central', 'kms-key-id': 'arn:aws:kms:us-east-1:999999999999:key/abc' },
      'secrets-account-id',
      'required when secrets-location is "central"'
    ],
    [
      { 'secrets-location': 'central', 'secrets-account-id': '999999999999' },
      'kms-key-id',
      'required when secrets-location is "central"'
    ],
    [
      {
        'secrets-location': 'central',
        'secrets-account-id': '999999999999',
        'kms-key-id': 'alias/x'
      },
      'kms-key-id',
      'KMS key ARN'
    ],
    [{ 'secrets-account-id': '99' }, 'secrets-account-id', '12-digit'],
    [{ 'kms-key-id': 'not a key' }, 'kms-key-id', 'KMS key id'],
    [{ 'secret-name-prefix': 'bad prefix!' }, 'secret-name-prefix', 'letters, digits'],
    [{ 'secret-replica-regions': 'mars-1' }, 'secret-replica-regions', 'AWS region'],
    [
      { 'secret-replica-regions': 'us-east-1' },
      'secret-replica-regions',
      'must not include aws-region'
    ],
    [{ notify: 'yes' }, 'notify', '"true" or "false"'],
    [{ 'sender-email': '' }, 'sender-email', 'required when notify is "true"'],
    [{ 'sender-email': 'security' }, 'sender-email', 'email address'],
    [{ 'owner-tag': 'x'.repeat(129) }, 'owner-tag', 'tag key'],
    [{ 'notify-account-email': '1' }, 'notify-account-email', '"true" or "false"'],
    [{ 'deploy-stacks': 'yes' }, 'deploy-stacks', '"off", "check", "apply"'],
    [{ 'stackset-name': '1-stackset' }, 'stackset-name', 'start with a letter'],
    [{ 'deployment-ous': 'ou-x' }, 'deployment-ous', 'organizational unit id'],
    [{ 'stackset-regions': 'EU' }, 'stackset-regions', 'AWS region'],
    [{ 'open-issues': 'on' }, 'open-issues', '"true" or "false"'],
    [{ 'issue-label': 'x'.repeat(51) }, 'issue-label', 'at most 50'],
    [{ 'max-concurrency': '0' }, 'max-concurrency', 'from 1 to 64'],
    [{ 'max-concurrency': '65' }, 'max-concurrency', 'from 1 to 64'],
    [{ 'max-emails': '-1' }, 'max-emails', 'whole number ≥ 0'],
    [{ 'max-emails': '2.5' }, 'max-emails', 'whole number ≥ 0'],
    [{ 'max-emails': 'lots' }, 'max-emails', 'whole number ≥ 0'],
    [{ 'max-emails': '1e3' }, 'max-emails', 'whole number ≥ 0'],
    [{ 'max-emails': '99999999999999999999' }, 'max-emails', 'whole number ≥ 0'],
    [{ 'owner-email-domains': '@example.com' }, 'owner-email-domains', '"*.example.com"'],
    [{ 'owner-email-domains': 'alice@example.com' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': 'localhost' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': '*' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': '*.com.' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': 'ex ample.com' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': 'example.com/x' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': 'a.*.example.com' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': '-bad.example.com' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': 'bücher.de' }, 'owner-email-domains', 'domain'],
    [{ 'owner-email-domains': '\u212Aexample.com' }, 'owner-email-domains', 'domain'],
    [{ shard: '0/4' }, 'shard', '1 ≤ K ≤ N'],
    [{ shard: '5/4' }, 'shard', '1 ≤ K ≤ N'],
    [{ shard: '1-4' }, 'shard', '1 ≤ K ≤ N'],
    [{ 'fail-on-account-error': 'maybe' }, 'fail-on-account-error', '"true" or "false"']
  ])('rejects %o naming %s', (overrides, input, allowed) => {
    const message = inputError(overrides)
    expect(message).toContain(`"${input}"`)
    expect(message).toContain(allowed)
  })

  it('names the bad owner-email-domains entry as written', () => {
    const message = inputError({ 'owner-email-domains': 'example.com, Bad_Domain.Example' })
    expect(message).toContain('Input "owner-email-domains" is "Bad_Domain.Example"')
    expect(message).not.toContain('is "example.com"')
  })

  it('needs no organization in merge mode, and a sender only to mail', () => {
    const only = (values: Record<string, string>) => () =>
      getInputs(name => values[name as string] ?? '')
    expect(only({ 'merge-from': 'shards', notify: 'false' })().mergeFrom).toBe('shards')
    // The merge job is the one that mails for a sharded run.
    expect(only({ 'merge-from': 'shards' })).toThrow(/"sender-email"/)
    // A shard job mails nobody.
    expect(() => inputs({ shard: '1/2', 'sender-email': '' })).not.toThrow()
  })

  it('signs a merge job in with the audit role, never the write role', () => {
    const merge = { 'merge-from': 'shards', notify: 'false' }
    const config = getInputs(
      name =>
        ({ ...merge, 'audit-role-to-assume': 'arn:aws:iam::111111111111:role/audit' })[
          name as string
        ] ?? ''
    )
    expect(config.chain).toMatchObject({
      kind: 'read-only',
      roleToAssume: 'arn:aws:iam::111111111111:role/audit'
    })
    expect(() =>
      getInputs(
        name =>
          ({ ...merge, 'role-to-assume': 'arn:aws:iam::111111111111:role/write' })[
            name as string
          ] ?? ''
      )
    ).toThrow(/"role-to-assume".*is not used by a merge job/s)
  })

  it('refuses merge-from together with shard', () => {
    expect(inputError({ 'merge-from': 'shards', shard: '1/2' })).toContain('"merge-from"')
  })

  it('names the value received', () => {
    expect(inputError({ 'rotation-period-days': '0' })).toBe(
      'Input "rotation-period-days" is "0": must be a whole number ≥ 1.'
    )
  })

  it('reports every bad input at once', () => {
    const message = inputError({ mode: 'x', 'warning-days': 'y', shard: 'z' })
    expect(message).toMatch(/^3 inputs are invalid:/)
    for (const name of ['mode', 'warning-days', 'shard']) expect(message).toContain(`"${name}"`)
  })

  it('reads only the inputs it declares', () => {
    const read: string[] = []
    getInputs(name => {
      read.push(name)
      return REQUIRED[name] ?? ''
    })
    expect(new Set(read)).toEqual(new Set(INPUT_NAMES))
  })
})

describe('the role chain', () => {
  const WRITE = 'arn:aws:iam::111111111111:role/iam-key-rotation-central'
  const AUDIT = 'arn:aws:iam::111111111111:role/iam-key-rotation-central-audit'
  const DRY_RUN = 'arn:aws:iam::111111111111:role/iam-key-rotation-central-dry-run'
  const withEvent = inputs
  const schedule = { eventName: 'schedule', canRequestIdToken: true }
  const pullRequest = (fromFork = false, canRequestIdToken = true) => ({
    eventName: 'pull_request',
    pullRequest: { number: 12, fromFork },
    canRequestIdToken
  })

  it.each<[string, Partial<Record<InputName, string>>, unknown]>([
    [
      'audit with both roles: the read-only chain',
      { 'role-to-assume': WRITE, 'audit-role-to-assume': AUDIT },
      {
        kind: 'read-only',
        roleToAssume: AUDIT,
        memberRoleName: 'iam-key-rotation-member-audit',
        secretsRoleName: 'iam-key-rotation-member-audit'
      }
    ],
    [
      'enforce with both roles: the write chain',
      { mode: 'enforce', 'role-to-assume': WRITE, 'audit-role-to-assume': AUDIT },
      {
        kind: 'write',
        roleToAssume: WRITE,
        memberRoleName: 'iam-key-rotation-member',
        secretsRoleName: 'iam-key-rotation-member'
      }
    ],
    [
      'audit with the write role only: the write chain (main warns)',
      { 'role-to-assume': WRITE },
      { kind: 'write', roleToAssume: WRITE }
    ],
    [
      'ambient credentials: the write chain names',
      {},
      { kind: 'write', memberRoleName: 'iam-key-rotation-member' }
    ],
    [
      'a secrets role of its own, in the write chain',
      { mode: 'enforce', 'role-to-assume': WRITE, 'secrets-role-name': 'secrets-writer' },
      { secretsRoleName: 'secrets-writer' }
    ]
  ])('%s', (_name, overrides, expected) => {
    expect(withEvent(overrides, schedule).chain).toMatchObject(expected as object)
  })

  it('makes a pull_request run a dry run: audit with the dry-run role, no mail, no issues', () => {
    const config = withEvent(
      {
        mode: 'enforce',
        'role-to-assume': WRITE,
        'audit-role-to-assume': AUDIT,
        'dry-run-role-to-assume': DRY_RUN
      },
      pullRequest()
    )
    expect(config.mode).toBe('audit')
    expect(config.chain).toEqual({
      kind: 'read-only',
      roleToAssume: DRY_RUN,
      memberRoleName: 'iam-key-rotation-member-audit',
      secretsRoleName: 'iam-key-rotation-member-audit'
    })
    expect(config.notify.enabled).toBe(false)
    expect(config.issues.enabled).toBe(false)
    expect(config.dryRun).toEqual({ pullRequest: 12 })
  })

  it('says a fork pull request has nothing to sign in with', () => {
    const config = withEvent({ 'dry-run-role-to-assume': DRY_RUN }, pullRequest(true, false))
    expect(config.dryRun?.unavailable).toMatch(/^Dry run unavailable for forks/)
    // A fork whose run can still get a token (a trusted setup) runs the dry run.
    expect(
      withEvent({ 'dry-run-role-to-assume': DRY_RUN }, pullRequest(true, true)).dryRun
    ).toEqual({ pullRequest: 12 })
  })

  it('refuses a dry run without the dry-run role', () => {
    expect(() =>
      withEvent({ 'role-to-assume': WRITE, 'audit-role-to-assume': AUDIT }, pullRequest())
    ).toThrow(/Input "dry-run-role-to-assume" is empty: is required for a pull-request dry run/)
  })

  it.each<[string, Record<string, unknown> | undefined, RunContext['pullRequest']]>([
    [
      'a branch of this repository',
      {
        number: 4,
        head: { repo: { id: 1, full_name: 'o/r' } },
        base: { repo: { id: 1, full_name: 'o/r' } }
      },
      { number: 4, fromFork: false }
    ],
    [
      'a fork (another repository id)',
      {
        number: 4,
        head: { repo: { id: 2, full_name: 'x/r' } },
        base: { repo: { id: 1, full_name: 'o/r' } }
      },
      { number: 4, fromFork: true }
    ],
    [
      'a branch of a repository that is itself a fork',
      { number: 4, head: { repo: { id: 1, fork: true } }, base: { repo: { id: 1 } } },
      { number: 4, fromFork: false }
    ],
    [
      'a deleted fork',
      { number: 4, head: { repo: null }, base: { repo: { id: 1 } } },
      { number: 4, fromFork: true }
    ],
    ['no readable payload', undefined, { fromFork: true }]
  ])('reads a pull_request event from %s', (_name, pullRequestPayload, expected) => {
    const dir = testTempDir('event-')
    const path = join(dir, 'event.json')
    writeFileSync(
      path,
      pullRequestPayload ? JSON.stringify({ pull_request: pullRequestPayload }) : '{not json'
    )
    expect(
      runContextFromEnv({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path }).pullRequest
    ).toEqual(expected)
  })

  it('treats every pull_request* event as a dry run, and other events not', () => {
    expect(runContextFromEnv({ GITHUB_EVENT_NAME: 'pull_request_target' }).pullRequest).toEqual({
      fromFork: true
    })
    expect(runContextFromEnv({ GITHUB_EVENT_NAME: 'schedule' }).pullRequest).toBeUndefined()
  })
})

describe('splitList', () => {
  it('splits on commas and newlines and drops blanks', () => {
    expect(splitList(' a,b\n\n c ,')).toEqual(['a', 'b', 'c'])
  })
})

describe('replica KMS keys (KMS keys are regional)', () => {
  const MRK = 'mrk-0123456789abcdef0123456789abcdef'
  const MRK_ARN = `arn:aws:kms:us-east-1:999999999999:key/${MRK}`
  const SINGLE_ARN = 'arn:aws:kms:us-east-1:999999999999:key/11111111-2222-3333-4444-555555555555'
  const EU_ARN = 'arn:aws:kms:eu-west-1:999999999999:key/66666666-7777-8888-9999-000000000000'
  const AP_ARN = 'arn:aws:kms:ap-south-1:999999999999:key/66666666-7777-8888-9999-000000000001'
  const central = {
    'secrets-location': 'central',
    'secrets-account-id': '999999999999'
  }

  it.each<[string, Partial<Record<InputName, string>>, unknown]>([
    [
      'a multi-Region key ARN: its replica in each region',
      { ...central, 'kms-key-id': MRK_ARN, 'secret-replica-regions': 'eu-west-1' },
      [
        {
          region: 'eu-west-1',
          kmsKeyId: `arn:aws:kms:eu-west-1:999999999999:key/${MRK}`,
          source: 'multi-region-key'
        }
      ]
    ],
    [
      'a single-region key with a pair for every replica region',
      {
        ...central,
        'kms-key-id': SINGLE_ARN,
        'secret-replica-regions': 'eu-west-1, ap-south-1',
        'replica-kms-key-ids': `eu-west-1=${EU_ARN}\nap-south-1 = ${AP_ARN}`
      },
      [
        { region: 'eu-west-1', kmsKeyId: EU_ARN, source: 'replica-kms-key-ids' },
        { region: 'ap-south-1', kmsKeyId: AP_ARN, source: 'replica-kms-key-ids' }
      ]
    ],
    [
      'a pair wins over the multi-Region replica',
      {
        ...central,
        'kms-key-id': MRK_ARN,
        'secret-replica-regions': 'eu-west-1',
        'replica-kms-key-ids': `eu-west-1=${EU_ARN}`
      },
      [{ region: 'eu-west-1', kmsKeyId: EU_ARN, source: 'replica-kms-key-ids' }]
    ],
    [
      'no kms-key-id (member): aws/secretsmanager exists in every region',
      { 'secret-replica-regions': 'eu-west-1' },
      [{ region: 'eu-west-1', source: 'aws-managed' }]
    ],
    ['no replicas, single-region key', { 'kms-key-id': SINGLE_ARN }, []]
  ])('%s', (_, overrides, expected) => {
    expect(inputs(overrides).secrets.replicaKeys).toEqual(expected)
  })

  it.each<[string, Partial<Record<InputName, string>>, RegExp]>([
    [
      'a single-region key ARN with replicas and no pair',
      { ...central, 'kms-key-id': SINGLE_ARN, 'secret-replica-regions': 'eu-west-1, ap-south-1' },
      /Input "kms-key-id" is "arn:aws:kms:us-east-1:999999999999:key\/11111111-2222-3333-4444-555555555555": names a single-region key or an alias, and KMS keys are regional: it cannot encrypt the replicas of secret-replica-regions in eu-west-1, ap-south-1\. .*replica-kms-key-ids/
    ],
    [
      'an alias with replicas: only the region without a pair',
      {
        'kms-key-id': 'alias/secrets',
        'secret-replica-regions': 'eu-west-1, ap-south-1',
        'replica-kms-key-ids': `eu-west-1=${EU_ARN}`
      },
      /"kms-key-id" is "alias\/secrets": .*secret-replica-regions in ap-south-1\./
    ],
    [
      'a bare single-region key id with replicas',
      {
        'kms-key-id': '11111111-2222-3333-4444-555555555555',
        'secret-replica-regions': 'eu-west-1'
      },
      /"kms-key-id" .*secret-replica-regions in eu-west-1/
    ],
    [
      'a bare mrk id with replicas: the roles are granted the key by ARN',
      { 'kms-key-id': MRK, 'secret-replica-regions': 'eu-west-1' },
      /"kms-key-id" is "mrk-[0-9a-f]+": must be the key ARN of the multi-Region key when secret-replica-regions is set/
    ],
    [
      'a key ARN of another region than aws-region',
      { ...central, 'kms-key-id': EU_ARN, 'aws-region': 'us-east-1' },
      /"kms-key-id" is "arn:aws:kms:eu-west-1:.*": is a key of eu-west-1, but the secrets are written in aws-region us-east-1/
    ],
    [
      'a pair whose region is not a replica region',
      {
        ...central,
        'kms-key-id': MRK_ARN,
        'secret-replica-regions': 'eu-west-1',
        'replica-kms-key-ids': `ap-south-1=${AP_ARN}`
      },
      /"replica-kms-key-ids" is "ap-south-1=.*": names ap-south-1, which is not one of secret-replica-regions \(eu-west-1\)/
    ],
    [
      'a pair whose key is in another region',
      {
        ...central,
        'kms-key-id': MRK_ARN,
        'secret-replica-regions': 'eu-west-1',
        'replica-kms-key-ids': `eu-west-1=${SINGLE_ARN}`
      },
      /the key is in us-east-1, not in eu-west-1: KMS keys are regional/
    ],
    [
      'a region twice',
      {
        ...central,
        'kms-key-id': MRK_ARN,
        'secret-replica-regions': 'eu-west-1',
        'replica-kms-key-ids': `eu-west-1=${EU_ARN},eu-west-1=${EU_ARN.replace(/0$/, '9')}`
      },
      /names eu-west-1 twice: give one key per region/
    ],
    [
      'not a pair of a region and a key ARN',
      {
        ...central,
        'kms-key-id': MRK_ARN,
        'secret-replica-regions': 'eu-west-1',
        'replica-kms-key-ids': 'eu-west-1=alias/secrets'
      },
      /each entry must be "REGION=KEY_ARN"/
    ],
    [
      'pairs without kms-key-id',
      { 'secret-replica-regions': 'eu-west-1', 'replica-kms-key-ids': `eu-west-1=${EU_ARN}` },
      /"replica-kms-key-ids" .*needs kms-key-id/
    ],
    [
      'a hostile entry is quoted, not obeyed',
      {
        ...central,
        'kms-key-id': MRK_ARN,
        'secret-replica-regions': 'eu-west-1',
        'replica-kms-key-ids': 'eu-west-1=$(rm -rf /)'
      },
      /"replica-kms-key-ids" is "eu-west-1=\$\(rm -rf \/\)": each entry must be/
    ]
  ])('rejects %s, naming the inputs', (_, overrides, message) => {
    expect(inputError(overrides)).toMatch(message)
  })

  it('collects a bad pair with the other bad inputs, in one error', () => {
    const message = inputError({
      mode: 'nope',
      'kms-key-id': SINGLE_ARN,
      'secret-replica-regions': 'eu-west-1',
      'replica-kms-key-ids': 'eu-west-1'
    })
    expect(message).toMatch(/^3 inputs are invalid:/)
    expect(message).toMatch(/"mode"/)
    expect(message).toMatch(/"replica-kms-key-ids"/)
    expect(message).toMatch(/"kms-key-id"/)
  })
})
