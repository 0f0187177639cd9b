import { readFileSync } from 'node:fs'
import * as core from '@actions/core'
import { parseKeyArn, replicaKeysFor, type ReplicaKey } from './secrets/replica-keys.js'
import { asciiLowerCase } from './util/ascii.js'
import { deepFreeze } from './util/freeze.js'

/** Every input of action.yml, named once. A test checks this list against action.yml. */
export const INPUT_NAMES = [
  'mode',
  'aws-region',
  'role-to-assume',
  'audit-role-to-assume',
  'dry-run-role-to-assume',
  'audience',
  'organization-id',
  'management-account-id',
  'list-accounts-role-name',
  'member-role-name',
  'audit-member-role-name',
  'include-management-account',
  'user-path',
  'accounts',
  'exclude-accounts',
  'organizational-units',
  'exemption-group',
  'rotation-period-days',
  'installation-grace-days',
  'recovery-grace-days',
  'warning-days',
  'inactive-period-days',
  'reminder-days',
  'force-rotate',
  'conflict-resolution',
  'old-key-in-use',
  'old-key-quiet-days',
  'secrets-location',
  'secrets-account-id',
  'secrets-role-name',
  'kms-key-id',
  'secret-name-prefix',
  'secret-replica-regions',
  'replica-kms-key-ids',
  'state-key-id',
  'notify',
  'sender-email',
  'owner-tag',
  'notify-account-email',
  'owner-email-domains',
  'max-emails',
  'templates-dir',
  'deploy-stacks',
  'stackset-name',
  'deployment-ous',
  'stackset-regions',
  'central-stack-name',
  'list-accounts-stack-name',
  'secrets-key-stack-name',
  'report-dir',
  'open-issues',
  'issue-label',
  'max-new-issues',
  'github-token',
  'max-concurrency',
  'shard',
  'fail-on-account-error',
  'merge-from'
] as const

export type InputName = (typeof INPUT_NAMES)[number]

/** The alias cfn/central-github-oidc.yaml gives the state signing key. */
export const DEFAULT_STATE_KEY_ID = 'alias/iam-key-rotation-state'

export type Mode = 'audit' | 'enforce'
export type ConflictResolution = 'issue' | 'lru'
export type OldKeyInUse = 'deactivate' | 'wait'
export type SecretsLocation = 'member' | 'central'
export type DeployStacks = 'off' | 'check' | 'apply'

/** A user named in `force-rotate`; without an account id it matches the user in every account. */
export interface ForceRotateEntry {
  readonly accountId?: string
  readonly userName: string
}

export interface RotationPolicyConfig {
  readonly rotationDays: number
  readonly installationGraceDays: number
  readonly recoveryGraceDays: number
  readonly warningDays: number
  readonly conflictResolution: ConflictResolution
  readonly oldKeyInUse: OldKeyInUse
  readonly oldKeyQuietDays: number
}

/**
 * The roles a run signs in with. The read-only chain (audit role, audit member roles) can scan,
 * plan, report, mail and check stacks; the write chain (write role, member roles) can also
 * rotate, deactivate and delete keys and deploy the StackSet.
 */
export interface RoleChain {
  readonly kind: 'read-only' | 'write'
  /** The central role of the chain; undefined: the job's ambient credentials. */
  readonly roleToAssume?: string
  readonly memberRoleName: string
  /** The role in secrets-account-id (secrets-location central). */
  readonly secretsRoleName: string
}

/** What the runner says about the run: the event, and the pull request of a pull_request run. */
export interface RunContext {
  readonly eventName?: string
  /** A pull_request* event: the pull request, as far as the payload tells it. */
  readonly pullRequest?: { readonly number?: number; readonly fromFork: boolean }
  /** The job may request an OIDC token (permissions: id-token: write, not a fork). */
  readonly canRequestIdToken: boolean
}

export interface Config {
  readonly mode: Mode
  readonly awsRegion: string
  /** The write chain's central role (enforce, deploy-stacks apply). */
  readonly roleToAssume?: string
  /** The read-only chain's central role (audit). */
  readonly auditRoleToAssume?: string
  /** The read-only chain's central role for pull-request dry runs: the audit role without email. */
  readonly dryRunRoleToAssume?: string
  readonly audience: string
  readonly organizationId: string
  readonly managementAccountId: string
  /** Whether the management account's IAM users are in scope (out by default). */
  readonly includeManagementAccount: boolean
  readonly listAccountsRoleName: string
  /** The write chain's member role. */
  readonly memberRoleName: string
  /** The read-only chain's member role. */
  readonly auditMemberRoleName: string
  /** IAM path whose users are in scope ("/" for all). */
  readonly userPath: string
  /** The roles this run signs in with, chosen from the mode. */
  readonly chain: RoleChain
  /**
   * A pull_request run: a dry run of the proposed configuration. It audits with the read-only
   * chain, sends no mail, opens no issue, and keeps one comment on the pull request up to date.
   */
  readonly dryRun?: {
    /** Undefined when the event payload names none: then nothing is commented. */
    readonly pullRequest?: number
    /** A fork's pull request gets no OIDC token: there is nothing to sign in with. */
    readonly unavailable?: string
  }
  readonly accounts: readonly string[]
  readonly excludeAccounts: readonly string[]
  readonly organizationalUnits: readonly string[]
  readonly exemptionGroup: string
  readonly policy: RotationPolicyConfig
  /** Days before a due action on which the owner is reminded again (besides entering the window). */
  readonly reminderDays: readonly number[]
  readonly forceRotate: readonly ForceRotateEntry[]
  /**
   * The KMS signing key of the tool's state (alias/iam-key-rotation-state of the central stack),
   * read with the central role: key id, key ARN, alias name or alias ARN.
   */
  readonly stateKeyId: string
  readonly secrets: {
    readonly location: SecretsLocation
    readonly accountId?: string
    readonly roleName: string
    readonly kmsKeyId?: string
    readonly namePrefix: string
    readonly replicaRegions: readonly string[]
    /** The key of each replica region, in the order of replicaRegions (replica-keys.ts). */
    readonly replicaKeys: readonly ReplicaKey[]
  }
  readonly notify: {
    readonly enabled: boolean
    readonly senderEmail?: string
    readonly ownerTag?: string
    readonly notifyAccountEmail: boolean
    /**
     * Domains an owner-tag address may be on (lowercase; "*.example.com" for its subdomains);
     * empty: any. Account addresses from Organizations are not filtered.
     */
    readonly ownerEmailDomains: readonly string[]
    /** Mails sent per run at most; the rest are held back and one notice goes to the sender. */
    readonly maxEmails: number
    readonly templatesDir: string
  }
  readonly deploy: {
    readonly mode: DeployStacks
    readonly stackSetName: string
    readonly deploymentOus: readonly string[]
    readonly stackSetRegions: readonly string[]
    /** The bootstrap stack of the central role, compared with this release; empty: none. */
    readonly centralStackName?: string
    /** The bootstrap stack of the list-accounts role (management account); empty: none. */
    readonly listAccountsStackName?: string
    /** The secrets key stack (secrets account, secrets-location central); empty: none. */
    readonly secretsKeyStackName?: string
  }
  readonly reportDir: string
  readonly issues: {
    readonly enabled: boolean
    readonly label: string
    /** Issues opened or updated per run at most; the rest wait in one roll-up issue. */
    readonly maxNewIssues: number
    readonly githubToken?: string
  }
  readonly maxConcurrency: number
  readonly shard?: { readonly index: number; readonly count: number }
  readonly failOnAccountError: boolean
  /**
   * Merge mode: the folder holding the reports of the shard jobs. The action then makes no AWS
   * call: it combines their plans into one report, summary and outputs.
   */
  readonly mergeFrom?: string
}

/** A bad input. The message names the input, the value received and what is allowed. */
export class InputError extends Error {
  constructor(
    readonly input: InputName,
    readonly value: string,
    readonly allowed: string
  ) {
    super(`Input "${input}" is ${value === '' ? 'empty' : `"${value}"`}: ${allowed}.`)
    this.name = 'InputError'
  }
}

/** All bad inputs of one run, reported together so a user fixes them in one go. */
export class InputErrors extends Error {
  constructor(readonly errors: readonly InputError[]) {
    super(
      errors.length === 1
        ? (errors[0]?.message ?? '')
        : `${errors.length} inputs are invalid:\n${errors.map(e => `- ${e.message}`).join('\n')}`
    )
    this.name = 'InputErrors'
  }
}

export type InputReader = (name: InputName) => string

const readActionInput: InputReader = name => core.getInput(name)

/** Defaults for inputs whose action.yml default is empty because "empty" carries a meaning. */
export const DEFAULT_INSTALLATION_GRACE_DAYS = 10
export const DEFAULT_REMINDER_DAYS = '1'
const MAX_CONCURRENCY_LIMIT = 64
const MAX_SHARDS = 1000
export const DEFAULT_MAX_EMAILS = 200

const PATTERNS = {
  accountId: /^\d{12}$/,
  organizationId: /^o-[a-z0-9]{10,32}$/,
  region: /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/,
  roleArn: /^arn:aws(-cn|-us-gov|-iso|-iso-b)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
  roleName: /^[\w+=,.@-]{1,64}$/,
  groupName: /^[\w+=,.@-]{1,128}$/,
  userName: /^[\w+=,.@-]{1,64}$/,
  // Organizations ids: a root (r-) or an organizational unit (ou-<root>-<suffix>).
  ouOrRoot: /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/,
  kmsKeyArn: /^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:(key\/[a-zA-Z0-9-]+|alias\/[\w/-]+)$/,
  kmsKeyIdOrAlias:
    /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias\/[\w/-]+)$/,
  secretNamePrefix: /^[A-Za-z0-9/_+=.@-]{0,400}$/,
  email: /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/,
  // A DNS name of ASCII labels (IDNs in their xn-- form), optionally "*." for its subdomains.
  emailDomain:
    /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/,
  tagKey: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u,
  stackSetName: /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/,
  // No * ? $: in a policy's Resource they are wildcards or variables.
  userPath: /^\/([\w+=,.@-]+\/)*$/,
  label: /^.{1,50}$/u,
  wholeNumber: /^\d+$/,
  shard: /^(\d+)\/(\d+)$/
} as const

/** Splits a list input on newlines and commas, dropping blanks and `#` comments. */
export function splitList(raw: string): string[] {
  return raw
    .split(/[\n,]/)
    .map(item => item.replace(/#.*$/, '').trim())
    .filter(item => item !== '')
}

/**
 * Reads and validates every input before anything touches AWS. Returns one frozen configuration
 * or throws InputErrors listing every bad input.
 */
export function getInputs(
  read: InputReader = readActionInput,
  run: RunContext = runContextFromEnv()
): Config {
  const errors: InputError[] = []
  const fail = (input: InputName, value: string, allowed: string): undefined => {
    errors.push(new InputError(input, value, allowed))
    return undefined
  }
  const raw = (name: InputName): string => read(name).trim()

  const oneOf = <T extends string>(name: InputName, allowed: readonly T[], fallback: T): T => {
    const value = raw(name)
    if (value === '') return fallback
    if ((allowed as readonly string[]).includes(value)) return value as T
    fail(name, value, `must be one of ${allowed.map(a => `"${a}"`).join(', ')}`)
    return fallback
  }

  const bool = (name: InputName, fallback: boolean): boolean => {
    const value = raw(name)
    if (value === '') return fallback
    if (['true', 'True', 'TRUE'].includes(value)) return true
    if (['false', 'False', 'FALSE'].includes(value)) return false
    fail(name, value, 'must be "true" or "false"')
    return fallback
  }

  const matching = (name: InputName, pattern: RegExp, allowed: string, fallback = ''): string => {
    const value = raw(name) || fallback
    if (value !== '' && !pattern.test(value)) fail(name, value, allowed)
    return value
  }

  const mergeFrom = raw('merge-from')
  const required = (name: InputName, pattern: RegExp, allowed: string): string => {
    const value = raw(name)
    if (value === '' && mergeFrom !== '') return value
    if (value === '') fail(name, value, `is required; ${allowed}`)
    else if (!pattern.test(value)) fail(name, value, allowed)
    return value
  }

  const list = (name: InputName, pattern: RegExp, allowed: string): string[] => {
    const items = splitList(read(name))
    for (const item of items) if (!pattern.test(item)) fail(name, item, allowed)
    return [...new Set(items)]
  }

  const wholeNumber = (name: InputName, min: number, max: number, fallback?: number) => {
    const value = raw(name)
    if (value === '') return fallback
    const number = PATTERNS.wholeNumber.test(value) ? Number(value) : NaN
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`
      return fail(name, value, `must be a whole number ${range}`)
    }
    return number
  }

  const accountIdRule = 'must be a 12-digit AWS account id'
  const regionRule = 'must be an AWS region such as "us-east-1"'
  const roleNameRule = 'must be an IAM role name (1-64 of letters, digits and +=,.@_-)'

  const givenMode = oneOf<Mode>('mode', ['audit', 'enforce'], 'audit')
  const pullRequest = run.pullRequest
  // A pull request previews the configuration it proposes; only the protected branch acts.
  const mode: Mode = pullRequest ? 'audit' : givenMode
  const awsRegion = matching('aws-region', PATTERNS.region, regionRule, 'us-east-1')
  const roleToAssume = matching(
    'role-to-assume',
    PATTERNS.roleArn,
    'must be an IAM role ARN such as "arn:aws:iam::123456789012:role/iam-key-rotation-central"'
  )
  const auditRoleToAssume = matching(
    'audit-role-to-assume',
    PATTERNS.roleArn,
    'must be an IAM role ARN such as "arn:aws:iam::123456789012:role/iam-key-rotation-central-audit"'
  )
  const dryRunRoleToAssume = matching(
    'dry-run-role-to-assume',
    PATTERNS.roleArn,
    'must be an IAM role ARN such as "arn:aws:iam::123456789012:role/iam-key-rotation-central-dry-run"'
  )
  const audience = raw('audience') || 'sts.amazonaws.com'
  const organizationId = required(
    'organization-id',
    PATTERNS.organizationId,
    'must be an organization id: "o-" followed by 10 to 32 lowercase letters or digits'
  )
  const managementAccountId = required('management-account-id', PATTERNS.accountId, accountIdRule)
  const listAccountsRoleName = matching(
    'list-accounts-role-name',
    PATTERNS.roleName,
    roleNameRule,
    'iam-key-rotation-list-accounts'
  )
  const memberRoleName = matching(
    'member-role-name',
    PATTERNS.roleName,
    roleNameRule,
    'iam-key-rotation-member'
  )
  const auditMemberRoleName = matching(
    'audit-member-role-name',
    PATTERNS.roleName,
    roleNameRule,
    'iam-key-rotation-member-audit'
  )
  const includeManagementAccount = bool('include-management-account', false)
  const userPath = matching(
    'user-path',
    PATTERNS.userPath,
    'must be an IAM path: "/" or "/name/…/" (each name of letters, digits and +=,.@_-)',
    '/'
  )
  const accounts = list('accounts', PATTERNS.accountId, accountIdRule)
  const excludeAccounts = list('exclude-accounts', PATTERNS.accountId, accountIdRule)
  const ouRule = 'must be an organization root id ("r-…") or organizational unit id ("ou-…-…")'
  const organizationalUnits = list('organizational-units', PATTERNS.ouOrRoot, ouRule)
  const exemptionGroup = matching(
    'exemption-group',
    PATTERNS.groupName,
    'must be an IAM group name (1-128 of letters, digits and +=,.@_-)',
    'IAMKeyRotationExemptionGroup'
  )

  const policy = readPolicy()
  const reminderDays = list(
    'reminder-days',
    PATTERNS.wholeNumber,
    'must be a list of whole numbers of days before the due date'
  ).map(Number)

  const forceRotate = splitList(read('force-rotate')).flatMap(entry => {
    const match = /^(?:(\d{12}):)?([^:]+)$/.exec(entry)
    const userName = match?.[2]
    if (!match || userName === undefined || !PATTERNS.userName.test(userName)) {
      fail(
        'force-rotate',
        entry,
        'each entry must be "ACCOUNT_ID:USER" (12-digit account id) or "USER" (an IAM user name)'
      )
      return []
    }
    return [match[1] === undefined ? { userName } : { accountId: match[1], userName }]
  })

  const secrets = readSecrets()
  const stateKeyId = raw('state-key-id') || DEFAULT_STATE_KEY_ID
  if (!PATTERNS.kmsKeyArn.test(stateKeyId) && !PATTERNS.kmsKeyIdOrAlias.test(stateKeyId)) {
    fail(
      'state-key-id',
      stateKeyId,
      'must be a KMS key id, key ARN, alias name or alias ARN of the state signing key (default alias/iam-key-rotation-state)'
    )
  }
  const notify = readNotify()
  const deploy = readDeploy()

  const reportDir = raw('report-dir') || 'key-rotation-report'
  const openIssues = bool('open-issues', true)
  const issueLabel = matching(
    'issue-label',
    PATTERNS.label,
    'must be a label name of at most 50 characters',
    'iam-key-rotation'
  )
  const maxNewIssues = wholeNumber('max-new-issues', 0, 1000, 20) ?? 20
  const githubToken = read('github-token').trim()
  if (githubToken !== '') core.setSecret(githubToken)
  const maxConcurrency = wholeNumber('max-concurrency', 1, MAX_CONCURRENCY_LIMIT, 8) ?? 8
  const shard = readShard()
  const failOnAccountError = bool('fail-on-account-error', true)
  if (mergeFrom !== '' && shard) {
    fail(
      'merge-from',
      mergeFrom,
      'cannot be combined with shard: the merge job reads the shards, it is not one'
    )
  }

  const chain = chooseChain()

  if (errors.length > 0) throw new InputErrors(errors)

  const dryRun: Config['dryRun'] = pullRequest && {
    ...(pullRequest.number === undefined ? {} : { pullRequest: pullRequest.number }),
    ...(pullRequest.fromFork && !run.canRequestIdToken && chain.roleToAssume
      ? {
          unavailable:
            'Dry run unavailable for forks: GitHub gives a pull_request run from a fork no OIDC token, so it cannot sign in to AWS. The plan of this change runs once it is merged, or when its branch is pushed to this repository.'
        }
      : {})
  }

  return deepFreeze<Config>({
    mode,
    awsRegion,
    ...(roleToAssume ? { roleToAssume } : {}),
    ...(auditRoleToAssume ? { auditRoleToAssume } : {}),
    ...(dryRunRoleToAssume ? { dryRunRoleToAssume } : {}),
    audience,
    organizationId,
    managementAccountId,
    includeManagementAccount,
    listAccountsRoleName,
    memberRoleName,
    auditMemberRoleName,
    userPath,
    chain,
    ...(dryRun ? { dryRun } : {}),
    accounts,
    excludeAccounts,
    organizationalUnits,
    exemptionGroup,
    policy,
    reminderDays: reminderDays.length > 0 ? reminderDays : [Number(DEFAULT_REMINDER_DAYS)],
    forceRotate,
    stateKeyId,
    secrets,
    // A dry run mails nobody and opens no issue: it only shows the plan.
    notify: dryRun ? { ...notify, enabled: false } : notify,
    deploy,
    reportDir,
    issues: {
      enabled: openIssues && !dryRun,
      label: issueLabel,
      maxNewIssues,
      ...(githubToken ? { githubToken } : {})
    },
    maxConcurrency,
    ...(shard ? { shard } : {}),
    failOnAccountError,
    ...(mergeFrom ? { mergeFrom } : {})
  })

  /**
   * A pull request signs in with the dry-run role; audit with the audit role when it is set (main
   * warns when an audit uses the write chain instead); enforce needs the write chain. Both
   * read-only central roles lead to the audit member roles.
   */
  function chooseChain(): RoleChain {
    const readOnly = (central: string): RoleChain => ({
      kind: 'read-only',
      roleToAssume: central,
      memberRoleName: auditMemberRoleName,
      secretsRoleName: auditMemberRoleName
    })
    if (pullRequest) {
      if (dryRunRoleToAssume) return readOnly(dryRunRoleToAssume)
      fail(
        'dry-run-role-to-assume',
        '',
        'is required for a pull-request dry run: the dry-run role (output DryRunRoleArn of cfn/central-github-oidc.yaml); no other role trusts pull requests'
      )
    }
    const write: RoleChain = {
      kind: 'write',
      ...(roleToAssume ? { roleToAssume } : {}),
      memberRoleName,
      secretsRoleName: secrets.roleName
    }
    // The merge job only mails and syncs issues: never the write chain, whatever the mode.
    if (mergeFrom !== '') {
      if (auditRoleToAssume) return readOnly(auditRoleToAssume)
      if (roleToAssume) {
        fail(
          'role-to-assume',
          roleToAssume,
          'is not used by a merge job (merge-from): it only sends mail and syncs issues; set audit-role-to-assume (output AuditRoleArn of cfn/central-github-oidc.yaml) instead'
        )
      }
      return write
    }
    if (mode === 'enforce') {
      if (!roleToAssume && auditRoleToAssume) {
        fail(
          'role-to-assume',
          '',
          'is required when mode is "enforce": the write role (output CentralRoleArn of cfn/central-github-oidc.yaml); audit-role-to-assume is read-only'
        )
      }
      return write
    }
    if (auditRoleToAssume) return readOnly(auditRoleToAssume)
    return write
  }

  function readPolicy(): RotationPolicyConfig {
    const days = (name: InputName, min: number, fallback?: number) =>
      wholeNumber(name, min, Number.MAX_SAFE_INTEGER, fallback)
    const rotationDays = days('rotation-period-days', 1, 90)
    const recoveryGraceDays = days('recovery-grace-days', 1, 10)
    const warningDays = days('warning-days', 0, 7)
    const givenGrace = days('installation-grace-days', 1)
    const inactivePeriod = days('inactive-period-days', 2)

    let installationGraceDays = givenGrace ?? DEFAULT_INSTALLATION_GRACE_DAYS
    if (inactivePeriod !== undefined && rotationDays !== undefined) {
      const derived = inactivePeriod - rotationDays
      if (derived < 1) {
        fail(
          'inactive-period-days',
          String(inactivePeriod),
          `must be greater than rotation-period-days (${rotationDays}): the old key is deactivated at least one day after rotation`
        )
      } else if (givenGrace !== undefined && givenGrace !== derived) {
        fail(
          'inactive-period-days',
          String(inactivePeriod),
          `contradicts installation-grace-days (${givenGrace}): inactive-period-days must equal rotation-period-days + installation-grace-days (${rotationDays + givenGrace}); set only one of them`
        )
      } else {
        installationGraceDays = derived
      }
    }
    if (warningDays !== undefined && rotationDays !== undefined && warningDays >= rotationDays) {
      fail(
        'warning-days',
        String(warningDays),
        `must be less than rotation-period-days (${rotationDays})`
      )
    }
    const conflictResolution = oneOf<ConflictResolution>(
      'conflict-resolution',
      ['issue', 'lru'],
      'issue'
    )
    const oldKeyInUse = oneOf<OldKeyInUse>('old-key-in-use', ['deactivate', 'wait'], 'deactivate')
    const oldKeyQuietDays = days('old-key-quiet-days', 1, 2)
    return {
      rotationDays: rotationDays ?? 90,
      installationGraceDays,
      recoveryGraceDays: recoveryGraceDays ?? 10,
      warningDays: warningDays ?? 7,
      conflictResolution,
      oldKeyInUse,
      oldKeyQuietDays: oldKeyQuietDays ?? 2
    }
  }

  function readSecrets(): Config['secrets'] {
    const location = oneOf<SecretsLocation>('secrets-location', ['member', 'central'], 'member')
    const accountId = matching('secrets-account-id', PATTERNS.accountId, accountIdRule)
    const roleName = matching('secrets-role-name', PATTERNS.roleName, roleNameRule)
    const kmsKeyId = raw('kms-key-id')
    if (location === 'central') {
      if (accountId === '') {
        fail(
          'secrets-account-id',
          '',
          'is required when secrets-location is "central": the 12-digit account that holds the secrets'
        )
      }
      if (kmsKeyId === '') {
        fail(
          'kms-key-id',
          '',
          'is required when secrets-location is "central": the ARN of a customer-managed KMS key (the AWS-managed key cannot be read across accounts)'
        )
      } else if (!PATTERNS.kmsKeyArn.test(kmsKeyId)) {
        fail(
          'kms-key-id',
          kmsKeyId,
          'must be a KMS key ARN ("arn:aws:kms:REGION:ACCOUNT:key/ID") when secrets-location is "central"'
        )
      }
    } else if (
      kmsKeyId !== '' &&
      !PATTERNS.kmsKeyArn.test(kmsKeyId) &&
      !PATTERNS.kmsKeyIdOrAlias.test(kmsKeyId)
    ) {
      fail('kms-key-id', kmsKeyId, 'must be a KMS key id, key ARN, alias name or alias ARN')
    }
    const namePrefix = matching(
      'secret-name-prefix',
      PATTERNS.secretNamePrefix,
      'must be at most 400 of letters, digits and /_+=.@-',
      'iam-key-rotation/'
    )
    const replicaRegions = list('secret-replica-regions', PATTERNS.region, regionRule)
    if (replicaRegions.includes(awsRegion)) {
      fail(
        'secret-replica-regions',
        awsRegion,
        'must not include aws-region, where the primary secret lives'
      )
    }
    const explicit = readReplicaKmsKeyIds(replicaRegions, kmsKeyId)
    const { keys: replicaKeys, lacking } = replicaKeysFor(
      kmsKeyId || undefined,
      replicaRegions,
      explicit
    )
    // KMS keys are regional: a single-region key (or an alias) cannot encrypt a replica elsewhere.
    const kmsKeyIdValid =
      PATTERNS.kmsKeyArn.test(kmsKeyId) ||
      (location === 'member' && PATTERNS.kmsKeyIdOrAlias.test(kmsKeyId))
    const keyArn = parseKeyArn(kmsKeyId)
    if (keyArn && keyArn.region !== awsRegion) {
      fail(
        'kms-key-id',
        kmsKeyId,
        `is a key of ${keyArn.region}, but the secrets are written in aws-region ${awsRegion}, and KMS keys are regional: name the key of ${awsRegion} (for a multi-Region key, its replica there)`
      )
    }
    if (!keyArn && replicaKeys.some(key => key.source === 'multi-region-key')) {
      fail(
        'kms-key-id',
        kmsKeyId,
        'must be the key ARN of the multi-Region key when secret-replica-regions is set: the member roles are granted the key and its replicas by ARN (parameter KmsKeyArn)'
      )
    }
    if (lacking.length > 0 && kmsKeyIdValid) {
      fail(
        'kms-key-id',
        kmsKeyId,
        `names a single-region key or an alias, and KMS keys are regional: it cannot encrypt the replicas of secret-replica-regions in ${lacking.join(', ')}. Use a multi-Region key (mrk-…, replicated to those regions), or name a key of each of those regions in replica-kms-key-ids ("REGION=arn:aws:kms:REGION:ACCOUNT:key/ID")`
      )
    }
    return {
      location,
      ...(accountId ? { accountId } : {}),
      roleName: roleName || memberRoleName,
      ...(kmsKeyId ? { kmsKeyId } : {}),
      namePrefix,
      replicaRegions,
      replicaKeys
    }
  }

  /** `replica-kms-key-ids`: region=keyArn pairs, each region a replica region, once. */
  function readReplicaKmsKeyIds(
    replicaRegions: readonly string[],
    kmsKeyId: string
  ): Record<string, string> {
    const pairs: Record<string, string> = {}
    const entries = splitList(read('replica-kms-key-ids'))
    if (entries.length > 0 && kmsKeyId === '') {
      fail(
        'replica-kms-key-ids',
        entries.join(', '),
        "needs kms-key-id: replicas get their own region's customer-managed key only when the primary secret has one"
      )
    }
    for (const entry of entries) {
      const match = /^([^=]+)=(.+)$/.exec(entry)
      const region = match?.[1]?.trim() ?? ''
      const value = match?.[2]?.trim() ?? ''
      const arn = parseKeyArn(value)
      if (!match || !PATTERNS.region.test(region) || !arn) {
        fail(
          'replica-kms-key-ids',
          entry,
          'each entry must be "REGION=KEY_ARN", e.g. "eu-west-1=arn:aws:kms:eu-west-1:123456789012:key/ID" (comma or newline separated)'
        )
      } else if (!replicaRegions.includes(region)) {
        fail(
          'replica-kms-key-ids',
          entry,
          `names ${region}, which is not one of secret-replica-regions (${replicaRegions.join(', ') || 'none'})`
        )
      } else if (arn.region !== region) {
        fail(
          'replica-kms-key-ids',
          entry,
          `the key is in ${arn.region}, not in ${region}: KMS keys are regional, so a replica in ${region} needs a key of ${region}`
        )
      } else if (Object.hasOwn(pairs, region)) {
        fail('replica-kms-key-ids', entry, `names ${region} twice: give one key per region`)
      } else {
        pairs[region] = value
      }
    }
    return pairs
  }

  function readNotify(): Config['notify'] {
    const enabled = bool('notify', true)
    const senderEmail = matching(
      'sender-email',
      PATTERNS.email,
      'must be an email address (a verified SES identity)'
    )
    // A shard job mails nobody: its merge job does, for the whole organization.
    if (enabled && senderEmail === '' && raw('shard') === '') {
      fail(
        'sender-email',
        '',
        'is required when notify is "true": a verified SES identity to send from (or set notify: false)'
      )
    }
    const ownerTag = raw('owner-tag')
    if (ownerTag !== '' && !PATTERNS.tagKey.test(ownerTag)) {
      fail('owner-tag', ownerTag, 'must be an IAM tag key of at most 128 characters, or empty')
    }
    // Compared in lowercase: DNS names are case-insensitive (ASCII only: IDNs in xn-- form).
    const ownerEmailDomains = splitList(read('owner-email-domains')).flatMap(entry => {
      const domain = asciiLowerCase(entry)
      if (PATTERNS.emailDomain.test(domain)) return [domain]
      fail(
        'owner-email-domains',
        entry,
        'each entry must be a domain such as "example.com" (exactly that domain) or "*.example.com" (its subdomains), comma or newline separated'
      )
      return []
    })
    const maxEmails =
      wholeNumber('max-emails', 0, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_EMAILS) ??
      DEFAULT_MAX_EMAILS
    return {
      enabled,
      ...(senderEmail ? { senderEmail } : {}),
      ...(ownerTag ? { ownerTag } : {}),
      notifyAccountEmail: bool('notify-account-email', true),
      ownerEmailDomains: [...new Set(ownerEmailDomains)],
      maxEmails,
      templatesDir: raw('templates-dir') || 'templates'
    }
  }

  function readDeploy(): Config['deploy'] {
    const deployMode = oneOf<DeployStacks>('deploy-stacks', ['off', 'check', 'apply'], 'check')
    const stackSetName = matching(
      'stackset-name',
      PATTERNS.stackSetName,
      'must start with a letter and contain only letters, digits and hyphens (at most 128)',
      'iam-key-rotation-member'
    )
    const deploymentOus = list('deployment-ous', PATTERNS.ouOrRoot, ouRule)
    const stackSetRegions = list('stackset-regions', PATTERNS.region, regionRule)
    const centralStackName = matching(
      'central-stack-name',
      PATTERNS.stackSetName,
      'must be a CloudFormation stack name: a letter, then letters, digits and hyphens (at most 128)'
    )
    const listAccountsStackName = matching(
      'list-accounts-stack-name',
      PATTERNS.stackSetName,
      'must be a CloudFormation stack name: a letter, then letters, digits and hyphens (at most 128)'
    )
    const secretsKeyStackName = matching(
      'secrets-key-stack-name',
      PATTERNS.stackSetName,
      'must be a CloudFormation stack name: a letter, then letters, digits and hyphens (at most 128)'
    )
    return {
      mode: deployMode,
      stackSetName,
      deploymentOus,
      stackSetRegions: stackSetRegions.length > 0 ? stackSetRegions : [awsRegion],
      ...(centralStackName ? { centralStackName } : {}),
      ...(listAccountsStackName ? { listAccountsStackName } : {}),
      ...(secretsKeyStackName ? { secretsKeyStackName } : {})
    }
  }

  function readShard(): Config['shard'] {
    const value = raw('shard')
    if (value === '') return undefined
    const match = PATTERNS.shard.exec(value)
    const index = Number(match?.[1])
    const count = Number(match?.[2])
    if (!match || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
      return fail(
        'shard',
        value,
        `must be "K/N" with whole numbers 1 ≤ K ≤ N ≤ ${MAX_SHARDS}, e.g. "2/4"`
      )
    }
    return { index, count }
  }
}

/** The event and pull request of this run, as the runner describes them. */
export function runContextFromEnv(env: NodeJS.ProcessEnv = process.env): RunContext {
  const eventName = env.GITHUB_EVENT_NAME
  const canRequestIdToken = Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL)
  // pull_request, pull_request_target, pull_request_review…: every one is a dry run. A payload
  // that cannot be read still is (fail closed), without a pull request to comment on.
  if (!eventName?.startsWith('pull_request')) {
    return { ...(eventName ? { eventName } : {}), canRequestIdToken }
  }
  let event: PullRequestEvent = {}
  try {
    if (env.GITHUB_EVENT_PATH) {
      event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as PullRequestEvent
    }
  } catch {
    // An unreadable payload: a dry run all the same.
  }
  const pr = event.pull_request
  const head = pr?.head?.repo
  const base = pr?.base?.repo
  // A deleted fork leaves head.repo null; a pull request between two branches of one repository
  // has the same repository on both sides (compared by id, then name).
  const sameRepository =
    head != null &&
    base != null &&
    (head.id !== undefined && base.id !== undefined
      ? head.id === base.id
      : head.full_name !== undefined && head.full_name === base.full_name)
  const number = typeof pr?.number === 'number' ? pr.number : undefined
  return {
    eventName,
    pullRequest: { ...(number === undefined ? {} : { number }), fromFork: !sameRepository },
    canRequestIdToken
  }
}

interface PullRequestEvent {
  pull_request?: {
    number?: unknown
    head?: { repo?: { id?: number; full_name?: string } | null }
    base?: { repo?: { id?: number; full_name?: string } | null }
  }
}
