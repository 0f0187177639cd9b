import { isRecord, loadTemplates, policyDocuments, strings, type LoadedTemplate } from './policies.js'

/**
 * The table of every statement of every role, managed policy and key policy in cfn/, for
 * cfn/README.md: generated from the templates (npm run docs:permissions), and checked against
 * them by test/cfn/templates.test.ts, so the documentation cannot drift.
 */

/** What needs each statement, by `file › resource › Sid`. A new statement must be added here. */
export const NEEDED_FOR: Readonly<Record<string, string>> = {
  'central-github-oidc.yaml › CentralRole › RotationWorkflowInEnvironment':
    'signing in with the write chain (`role-to-assume`): the rotation workflow, protected branch, environment',
  'central-github-oidc.yaml › CentralRole › AssumeMemberAndListAccountsRoles':
    'every run: the inventory, and each account’s scan and rotation',
  'central-github-oidc.yaml › CentralRole › AssumeCentralSecretsRole': '`secrets-location: central`',
  'central-github-oidc.yaml › CentralRole › NeverTheManagementAccountsMemberRole':
    'guard: the management account’s users stay out of reach unless `IncludeManagementAccount`',
  'central-github-oidc.yaml › CentralRole › SendNotificationsAsSender': '`notify: true`',
  'central-github-oidc.yaml › CentralRole › ReadSendQuota':
    '`notify: true` (stops before the daily quota)',
  'central-github-oidc.yaml › CentralRole › CheckMemberRoleStackSet': '`deploy-stacks: check` or `apply`',
  'central-github-oidc.yaml › CentralRole › DeployMemberRoleStackSet':
    '`deploy-stacks: apply` with `mode: enforce`',
  'central-github-oidc.yaml › CentralRole › ActAsStackSetsDelegatedAdministrator':
    '`deploy-stacks` when the central role is outside the management account',
  'central-github-oidc.yaml › CentralRole › DescribeThisStack':
    '`central-stack-name` (the deploy phase compares this stack, and detects drift)',
  'central-github-oidc.yaml › CentralRole › ReadDriftDetectionStatus':
    '`central-stack-name` (drift detection’s result)',
  'central-github-oidc.yaml › CentralRole › ReadThisStacksRolesForDriftDetection':
    '`central-stack-name` (drift detection reads the stack’s roles as the caller)',
  'central-github-oidc.yaml › CentralRole › ReadThisProviderForDriftDetection':
    '`central-stack-name` (drift detection reads the provider as the caller)',
  'central-github-oidc.yaml › AuditRole › RotationWorkflowOnProtectedBranch':
    'signing in with the read-only chain (`audit-role-to-assume`): audits from the protected branch',
  'central-github-oidc.yaml › DryRunRole › RotationWorkflowInPullRequest':
    'signing in for a pull-request dry run (`dry-run-role-to-assume`)',
  'central-github-oidc.yaml › DryRunRole › AssumeAuditMemberAndListAccountsRoles':
    'every dry run: the inventory, and each account’s scan',
  'central-github-oidc.yaml › DryRunRole › NeverTheManagementAccountsMemberRole':
    'guard: as for the write role',
  'central-github-oidc.yaml › DryRunRole › CheckMemberRoleStackSet': '`deploy-stacks` in dry runs',
  'central-github-oidc.yaml › DryRunRole › ActAsStackSetsDelegatedAdministrator':
    '`deploy-stacks` in dry runs, central roles outside the management account',
  'central-github-oidc.yaml › DryRunRole › DescribeThisStack':
    '`central-stack-name` in dry runs (compare, detect drift)',
  'central-github-oidc.yaml › DryRunRole › ReadDriftDetectionStatus':
    '`central-stack-name` in dry runs (drift detection’s result)',
  'central-github-oidc.yaml › DryRunRole › ReadThisStacksRolesForDriftDetection':
    '`central-stack-name` in dry runs (drift detection reads the stack’s roles)',
  'central-github-oidc.yaml › DryRunRole › ReadThisProviderForDriftDetection':
    '`central-stack-name` in dry runs (drift detection reads the provider)',
  'central-github-oidc.yaml › AuditRole › AssumeAuditMemberAndListAccountsRoles':
    'every audit: the inventory, and each account’s scan',
  'central-github-oidc.yaml › AuditRole › NeverTheManagementAccountsMemberRole':
    'guard: as for the write role',
  'central-github-oidc.yaml › AuditRole › SendNotificationsAsSender': '`notify: true` in audits',
  'central-github-oidc.yaml › AuditRole › ReadSendQuota': '`notify: true` in audits',
  'central-github-oidc.yaml › AuditRole › CheckMemberRoleStackSet':
    '`deploy-stacks: check` (or `apply`, which an audit only checks)',
  'central-github-oidc.yaml › AuditRole › ActAsStackSetsDelegatedAdministrator':
    '`deploy-stacks` when the central roles are outside the management account',
  'central-github-oidc.yaml › AuditRole › DescribeThisStack':
    '`central-stack-name` in audits (compare, detect drift)',
  'central-github-oidc.yaml › AuditRole › ReadDriftDetectionStatus':
    '`central-stack-name` in audits (drift detection’s result)',
  'central-github-oidc.yaml › AuditRole › ReadThisStacksRolesForDriftDetection':
    '`central-stack-name` in audits (drift detection reads the stack’s roles)',
  'central-github-oidc.yaml › AuditRole › ReadThisProviderForDriftDetection':
    '`central-stack-name` in audits (drift detection reads the provider)',
  'management-list-accounts-role.yaml › ListAccountsRole › CentralRolesOfThisOrganizationOnly':
    'every run, with either chain',
  'management-list-accounts-role.yaml › ListAccountsRole › ReadOrganization':
    'every run (the inventory); `deploy-stacks` with empty `deployment-ous` (ListRoots)',
  'management-list-accounts-role.yaml › ListAccountsRole › WalkOrganizationalUnits':
    '`organizational-units`; `deploy-stacks` with `deployment-ous` (one ListOrganizationalUnitsForParent per id names the unknown ones)',
  'management-list-accounts-role.yaml › ListAccountsRole › DescribeThisStack':
    '`list-accounts-stack-name` (the deploy phase compares this stack, and detects drift)',
  'management-list-accounts-role.yaml › ListAccountsRole › ReadDriftDetectionStatus':
    '`list-accounts-stack-name` (drift detection’s result)',
  'management-list-accounts-role.yaml › ListAccountsRole › ReadThisRoleForDriftDetection':
    '`list-accounts-stack-name` (drift detection reads the role as the caller)',
  'member-role.yaml › MemberRole › CentralRoleOfThisOrganizationOnly': 'every run',
  'member-role.yaml › MemberRole › ReadUserDirectoryAndCredentialReport': 'every run: the scan',
  'member-role.yaml › MemberRole › ReadUserAccessKeys': 'every run (key listing, last use)',
  'member-role.yaml › MemberRole › ManageAccessKeysOfUsersUnderPath':
    '`mode: enforce` (create, deactivate, delete), users under `UserPath` only',
  'member-role.yaml › MemberRole › RecordKeyLifecycleInOwnUserTags': '`mode: enforce`',
  'member-role.yaml › MemberRole › AttachOnlyTheReadOwnSecretPolicy': '`mode: enforce` (rotation)',
  'member-role.yaml › MemberRole › StoreRotatedKeysUnderPrefix':
    '`mode: enforce` (rotation; drift repairs: KMS key, replicas with `secret-replica-regions`); every run’s check of each managed secret',
  'member-role.yaml › MemberRole › FindRotatedKeySecrets': 'every run: which users have a secret',
  'member-role.yaml › MemberRole › CheckUsersCanReadTheirSecrets':
    'before an old key is deactivated: may its user read the new key',
  'member-role.yaml › MemberRole › TagSecretsWithToolKeysOnly': '`mode: enforce` (rotation)',
  'member-role.yaml › MemberRole › ProtectSecretsWithCheckedPolicies':
    '`mode: enforce` (the owner-only policy of each secret, public policies blocked)',
  'member-role.yaml › MemberRole › EncryptSecretsThroughSecretsManager':
    '`kms-key-id` (and its replicas in `secret-replica-regions`: a multi-Region key)',
  'member-role.yaml › MemberRole › CheckReplicaKeysExist':
    '`mode: enforce` with a multi-Region `kms-key-id` and `secret-replica-regions`: its replicas exist',
  'member-role.yaml › MemberRole › EncryptReplicasWithTheirRegionsKeys': '`replica-kms-key-ids`',
  'member-role.yaml › MemberRole › NeverChangeProtectedUsers':
    'guard: users tagged `iam-key-rotation:protected=true` are never changed',
  'member-role.yaml › MemberRole › NeverChangeTheProtectedTag':
    'guard: the role cannot set or remove `iam-key-rotation:protected`',
  'member-role.yaml › MemberRole › NeverReadSecretValues':
    'guard: no resource policy the role writes lets it read a key',
  'member-role.yaml › MemberRole › DescribeSecretsKeyStack':
    '`secrets-key-stack-name` (the deploy phase reports that stack)',
  'member-role.yaml › AuditMemberRole › AuditRolesOfThisOrganizationOnly':
    'every audit and dry run',
  'member-role.yaml › AuditMemberRole › ReadUserDirectoryAndCredentialReport': 'every audit: the scan',
  'member-role.yaml › AuditMemberRole › ReadUserAccessKeys': 'every audit (key listing, last use)',
  'member-role.yaml › AuditMemberRole › DescribeRotatedKeySecrets':
    'every audit’s check of each managed secret (drift, a rotation whose tags were lost)',
  'member-role.yaml › AuditMemberRole › FindRotatedKeySecrets': 'every audit: which users have a secret',
  'member-role.yaml › AuditMemberRole › CheckUsersCanReadTheirSecrets':
    'audits plan the same deactivations: may the user read its new key',
  'member-role.yaml › AuditMemberRole › NeverReadSecretValues': 'guard: never a key',
  'member-role.yaml › AuditMemberRole › DescribeSecretsKeyStack':
    '`secrets-key-stack-name` in audits',
  'member-role.yaml › ReadOwnSecretPolicy › ReadOwnRotatedKey':
    'the rotated user’s application, reading its new key',
  'member-role.yaml › ReadOwnSecretPolicy › DecryptOwnSecret': 'the same, with `kms-key-id`',
  'member-role.yaml › ReadOwnSecretPolicy › DecryptOwnSecretReplicas':
    'the same, reading a replica, with `replica-kms-key-ids`',
  'central-github-oidc.yaml › StateSigningKey › AccountAdministers':
    'administering the state key (never signing with it)',
  'central-github-oidc.yaml › StateSigningKey › OnlyTheWriteRoleSigns':
    'signing every record and secret marker the tool writes (enforce)',
  'central-github-oidc.yaml › StateSigningKey › EveryToolRoleVerifies':
    'verifying the tool’s records (every run)',
  'central-secrets-kms.yaml › SecretsKey › AccountAdministersKey':
    'administering the key (never decrypting with it)',
  'central-secrets-kms.yaml › SecretsKey › OrganizationDecryptsThroughSecretsManager':
    'users reading their secret (`secrets-location: central`)',
  'central-secrets-kms.yaml › SecretsKey › SecretsRoleEncryptsThroughSecretsManager':
    'storing rotated keys (`secrets-location: central`)'
}

interface Row {
  readonly where: string
  readonly kind: string
  readonly condition: string
  readonly actions: string[]
}

/** Every statement with the template condition it depends on (its Fn::If), in template order. */
function rows(template: LoadedTemplate): Row[] {
  return policyDocuments(template).flatMap(document => {
    if (!isRecord(document.document)) return []
    const raw = document.document['Statement']
    return (Array.isArray(raw) ? raw : [raw]).flatMap((entry: unknown) => {
      let condition = ''
      let body = entry
      if (isRecord(entry) && Array.isArray(entry['Fn::If'])) {
        const [name, whenTrue] = entry['Fn::If'] as unknown[]
        condition = String(name)
        body = whenTrue
      }
      if (!isRecord(body)) return []
      const sid = typeof body['Sid'] === 'string' ? body['Sid'] : '(no Sid)'
      return [
        {
          where: `${template.file} › ${document.resource} › ${sid}`,
          kind: body['Effect'] === 'Deny' ? `${document.kind} (deny)` : document.kind,
          condition,
          actions: strings(body['Action'])
        }
      ]
    })
  })
}

export function permissionsTable(): string {
  const lines = [
    '| template › resource › statement | policy | only when | actions | needed for |',
    '|---|---|---|---|---|'
  ]
  for (const template of loadTemplates()) {
    for (const row of rows(template)) {
      const needed = NEEDED_FOR[row.where]
      if (needed === undefined) throw new Error(`${row.where}: add what needs it to NEEDED_FOR`)
      const actions = row.actions.map(action => `\`${action}\``).join(', ')
      const condition = row.condition ? `\`${row.condition}\`` : ''
      lines.push(`| ${row.where} | ${row.kind} | ${condition} | ${actions} | ${needed} |`)
    }
  }
  return lines.join('\n')
}

export const TABLE_START = '<!-- permissions-table: generated by npm run docs:permissions -->'
export const TABLE_END = '<!-- permissions-table: end -->'

/** cfn/README.md with the table between its markers replaced by the current one. */
export function withCurrentTable(readme: string): string {
  const start = readme.indexOf(TABLE_START)
  const end = readme.indexOf(TABLE_END)
  if (start < 0 || end < start) throw new Error('cfn/README.md lacks the permissions-table markers')
  return `${readme.slice(0, start + TABLE_START.length)}\n\n${permissionsTable()}\n\n${readme.slice(end)}`
}
