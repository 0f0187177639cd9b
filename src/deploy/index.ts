export {
  DEFAULT_OPERATION_PREFERENCES,
  deployStacks,
  type CallAs,
  type CloudFormationSender,
  type DeployLog,
  type DeployMode,
  type DeployOptions,
  type DeployReport,
  type DeployWaitOptions,
  type FailedInstance,
  type MemberRoleParameters,
  type OperationOutcome,
  type StackSetState
} from './deploy-stacks.js'
export { CLOUDFORMATION_TAGS, TemplateParseError, parseCloudFormation } from './cfn-yaml.js'
export {
  DeployConfigError,
  MEMBER_TEMPLATE_FILE,
  loadMemberTemplate,
  parameterProblems,
  templateDifferences,
  type MemberTemplate,
  type ParameterSpec
} from './template.js'
export {
  assessCentralStack,
  checkBootstrapStacks,
  deployCommand,
  type CentralStackSpec,
  type CentralStackState
} from './central-stacks.js'
export {
  callAsFor,
  centralStackSpec,
  listAccountsStackSpec,
  memberRoleParameters,
  secretsKeyStackSpec,
  roleArnFromCallerArn
} from './wiring.js'
