import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CFN_DIR } from '../cfn/policies.js'
import { createStackRecord } from './services/cloudformation.js'
import { replicateKmsKey } from './services/kms.js'
import type { Account, EmulatorState } from './state.js'
import { WorldError, type World } from './world.js'

/**
 * The documented bootstrap (cfn/README.md, steps 1–4b), run through the emulator's own
 * CloudFormation with the project's templates, so the roles and policies every test meets are
 * the ones a user deploys. Defaults describe a typical installation of the test organization;
 * `world.bootstrap` overrides any parameter or template.
 */

export const CENTRAL_TEMPLATE = 'central-github-oidc.yaml'
export const LIST_ACCOUNTS_TEMPLATE = 'management-list-accounts-role.yaml'
export const SECRETS_KEY_TEMPLATE = 'central-secrets-kms.yaml'
export const MEMBER_TEMPLATE = 'member-role.yaml'

export const CENTRAL_STACK = 'iam-key-rotation-central'
export const LIST_ACCOUNTS_STACK = 'iam-key-rotation-list-accounts'
export const SECRETS_KEY_STACK = 'iam-key-rotation-secrets-key'
export const MEMBER_STACK = 'iam-key-rotation-member'

/**
 * The repository whose workflow the default central role trusts (its classic `sub` claim): the
 * GITHUB_REPOSITORY that test/support/run-action.ts gives the action.
 */
export const DEFAULT_GITHUB = { org: 'example-org', repo: 'key-rotation', branch: 'main' }
/** The SES sender the default central role may send as. */
export const DEFAULT_SENDER = 'security@example.com'

const templateCache = new Map<string, string>()

/** cfn/FILE as the repository has it, or the world's replacement. */
export function templateBody(world: World, file: string): string {
  const replaced = world.bootstrap?.templates?.[file]
  if (replaced !== undefined) return replaced
  let body = templateCache.get(file)
  if (body === undefined) {
    body = readFileSync(join(CFN_DIR, file), 'utf8')
    templateCache.set(file, body)
  }
  return body
}

function deployStack(
  state: EmulatorState,
  world: World,
  account: Account,
  stackName: string,
  file: string,
  parameters: Record<string, string>,
  now: Date
): ReadonlyMap<string, string> {
  const stack = createStackRecord(state, account, 'us-east-1', {
    name: stackName,
    description: undefined,
    templateBody: templateBody(world, file),
    parameters: new Map(Object.entries(parameters)),
    capabilities: ['CAPABILITY_NAMED_IAM'],
    tags: new Map(),
    now
  })
  if (stack.status !== 'CREATE_COMPLETE') {
    throw new WorldError(
      `bootstrap: stack ${stackName} (cfn/${file}) in account ${account.id} failed: ${stack.statusReason ?? stack.status}`
    )
  }
  return stack.outputs
}

/** Accounts that a world stack set gives a CURRENT member-role instance (no stack needed). */
function coveredByStackSets(world: World): Set<string> {
  const covered = new Set<string>()
  for (const stackSet of world.cloudformation?.stackSets ?? []) {
    for (const instance of stackSet.instances ?? []) {
      if ((instance.status ?? 'CURRENT') === 'CURRENT') covered.add(instance.account)
    }
  }
  return covered
}

/** The central stack's read-only roles, as the parameters of the stacks that trust them. */
function readOnlyRoleParameters(
  centralOutputs: ReadonlyMap<string, string>
): Record<string, string> {
  const audit = centralOutputs.get('AuditRoleArn')
  const dryRun = centralOutputs.get('DryRunRoleArn')
  return {
    ...(audit ? { CentralAuditRoleArn: audit } : {}),
    ...(dryRun ? { CentralDryRunRoleArn: dryRun } : {})
  }
}

export function bootstrap(state: EmulatorState, world: World, now: Date): void {
  const { central, organization, config } = state
  const account = (id: string): Account => {
    const found = state.accounts.get(id)
    if (!found) throw new WorldError(`bootstrap: account ${id} is not in the world`)
    return found
  }
  // Step 3 first: its KeyArn output is a parameter of the member role (cfn/README.md).
  const secretsKey = world.bootstrap?.secretsKey
  const centralSecrets: Record<string, string> = {}
  if (secretsKey) {
    const outputs = deployStack(
      state,
      world,
      account(secretsKey.accountId),
      SECRETS_KEY_STACK,
      SECRETS_KEY_TEMPLATE,
      {
        OrganizationId: organization.id,
        SecretsRoleName: config.memberRoleName,
        ...secretsKey.parameters
      },
      now
    )
    centralSecrets['SecretsAccountId'] = secretsKey.accountId
    centralSecrets['KmsKeyArn'] = outputs.get('KeyArn') ?? ''
    const keyAccount = account(secretsKey.accountId)
    const primary = keyAccount.kms.get(outputs.get('KeyArn') ?? '')
    for (const region of secretsKey.replicaRegions ?? []) {
      if (!primary?.multiRegionPrimaryArn) {
        throw new WorldError(
          'bootstrap.secretsKey.replicaRegions: the secrets key is not multi-Region (parameters MultiRegion: "true")'
        )
      }
      replicateKmsKey(keyAccount, primary, region, now)
    }
  }
  const centralOutputs = deployStack(
    state,
    world,
    account(central.accountId),
    CENTRAL_STACK,
    CENTRAL_TEMPLATE,
    {
      GitHubOrg: DEFAULT_GITHUB.org,
      GitHubRepo: DEFAULT_GITHUB.repo,
      GitHubBranch: DEFAULT_GITHUB.branch,
      CentralRoleName: central.roleName,
      OrganizationId: organization.id,
      ManagementAccountId: organization.managementAccountId,
      MemberRoleName: config.memberRoleName,
      ListAccountsRoleName: config.listAccountsRoleName,
      SenderEmail: DEFAULT_SENDER,
      ...(secretsKey ? { SecretsAccountId: secretsKey.accountId } : {}),
      ...world.bootstrap?.central
    },
    now
  )
  const readOnlyRoles = readOnlyRoleParameters(centralOutputs)
  const management = state.accounts.get(organization.managementAccountId)
  const managementEntry = world.accounts?.find(
    entry => entry.id === organization.managementAccountId
  )
  if (
    management &&
    world.listAccountsRole !== false &&
    managementEntry?.listAccountsRole !== false
  ) {
    deployStack(
      state,
      world,
      management,
      LIST_ACCOUNTS_STACK,
      LIST_ACCOUNTS_TEMPLATE,
      {
        ListAccountsRoleName: config.listAccountsRoleName,
        CentralRoleArn: central.roleArn,
        ...readOnlyRoles,
        OrganizationId: organization.id,
        ...world.bootstrap?.listAccounts
      },
      now
    )
  }
  const covered = coveredByStackSets(world)
  for (const entry of world.accounts ?? []) {
    if (entry.memberRole !== true || covered.has(entry.id)) continue
    deployStack(
      state,
      world,
      account(entry.id),
      MEMBER_STACK,
      MEMBER_TEMPLATE,
      {
        MemberRoleName: config.memberRoleName,
        CentralRoleArn: central.roleArn,
        ...readOnlyRoles,
        OrganizationId: organization.id,
        ...centralSecrets,
        ...world.bootstrap?.member
      },
      now
    )
  }
}
