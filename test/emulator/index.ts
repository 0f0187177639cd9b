/**
 * Local AWS emulator for tests, demos and benchmarks: IAM, STS, Organizations, Secrets
 * Manager, SES, KMS and CloudFormation over their real wire protocols, for the real SDK clients.
 * Test code only: nothing under src/ may import it.
 */
export { startEmulator, type Emulator, type EmulatorOptions } from './server.js'
export {
  loadWorldFile,
  parseWorld,
  WorldError,
  type World,
  type WorldAccount,
  type WorldAccessKey,
  type WorldUser,
  type WorldManagedPolicy,
  type WorldRole,
  type WorldGroup,
  type WorldSecret,
  type WorldOrganizationalUnit,
  type WorldStackSet,
  type PageSizes
} from './world.js'
export type { Faults, ThrottleRule, FailNthRule, CrashRule } from './faults.js'
export type { RequestLogEntry, RequestCounts } from './request-log.js'
export type {
  StateSnapshot,
  AccountSnapshot,
  UserSnapshot,
  AccessKeySnapshot,
  KmsKeySnapshot
} from './snapshot.js'
export type { SecretValueWrite, SentEmail } from './state.js'
export { CREDENTIAL_REPORT_COLUMNS } from './services/iam.js'
export { DEFAULT_CENTRAL_ROLE, DEFAULT_LIST_ACCOUNTS_ROLE, DEFAULT_MEMBER_ROLE } from './seed.js'
export { FAKE_SECRET_PREFIX } from './random.js'
