import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { IAMClient } from '@aws-sdk/client-iam'
import { KMSClient } from '@aws-sdk/client-kms'
import { OrganizationsClient } from '@aws-sdk/client-organizations'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SESClient } from '@aws-sdk/client-ses'
import { AssumeRoleCommand, STSClient, type Credentials } from '@aws-sdk/client-sts'
import { rootCredentials } from './callers.js'
import type { Emulator } from './server.js'
import type { World } from './world.js'

/** Static credentials, as the SDK clients take them. */
export interface AwsCredentialIdentity {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Shared fixtures for the emulator's own tests: real SDK clients pointed at the emulator. */

/** Any AKID the emulator did not issue acts as the central role ("ambient" credentials). */
export const AMBIENT: AwsCredentialIdentity = {
  accessKeyId: 'AKIDAMBIENTTEST0000',
  secretAccessKey: 'test'
}

export const MANAGEMENT_ACCOUNT = '111111111111'
export const CENTRAL_ROLE_ARN = 'arn:aws:iam::111111111111:role/iam-key-rotation-central'
export const MEMBER_ROLE = 'iam-key-rotation-member'

export interface ClientOptions {
  credentials?: AwsCredentialIdentity
  region?: string
  /** Default 1: error tests want the first answer, not the SDK's retries. */
  maxAttempts?: number
}

/**
 * Clients for the emulator's own tests. By default they act as the management account's root:
 * these tests are about each service's behaviour, and an administrator may do everything.
 * Tests about permissions pass the credentials of the principal they are about.
 */
export function clients(emulator: Emulator, options: ClientOptions = {}) {
  const config = {
    region: options.region ?? 'us-east-1',
    endpoint: emulator.url,
    credentials: options.credentials ?? rootCredentials(MANAGEMENT_ACCOUNT),
    maxAttempts: options.maxAttempts ?? 1
  }
  return {
    iam: new IAMClient(config),
    sts: new STSClient(config),
    organizations: new OrganizationsClient(config),
    secrets: new SecretsManagerClient(config),
    ses: new SESClient(config),
    cloudformation: new CloudFormationClient(config),
    kms: new KMSClient(config)
  }
}

export function asIdentity(credentials: Credentials | undefined): AwsCredentialIdentity {
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
    throw new Error('no credentials in the response')
  }
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    ...(credentials.SessionToken !== undefined && { sessionToken: credentials.SessionToken })
  }
}

/** Credentials for `roleName` in `accountId`, assumed with the ambient (central) identity. */
export async function assumeRole(
  emulator: Emulator,
  accountId: string,
  roleName = MEMBER_ROLE,
  options: ClientOptions = {}
): Promise<AwsCredentialIdentity> {
  const { sts } = clients(emulator, { credentials: AMBIENT, ...options })
  const response = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/${roleName}`,
      RoleSessionName: 'emulator-test'
    })
  )
  return asIdentity(response.Credentials)
}

/** Clients acting inside a member account, through its member role (and its permissions). */
export async function memberClients(
  emulator: Emulator,
  accountId: string,
  options: ClientOptions = {}
): Promise<ReturnType<typeof clients>> {
  return clients(emulator, { ...options, credentials: await assumeRole(emulator, accountId) })
}

/** Clients acting as an account's administrator (its root): anything, in that account only. */
export function adminClients(
  emulator: Emulator,
  accountId: string,
  options: ClientOptions = {}
): ReturnType<typeof clients> {
  return clients(emulator, { ...options, credentials: rootCredentials(accountId) })
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(
  promise: Promise<unknown>
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise
  } catch (error) {
    if (error instanceof Error) return error
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error })
  }
  throw new Error('expected the call to fail, but it succeeded')
}

export const NOW = '2026-03-02T12:00:00.000Z'

/** A small organization: management, dev, prod (nested OUs), one without the member role, one suspended. */
export function testWorld(overrides: Partial<World> = {}): World {
  return {
    organizationId: 'o-test123456',
    managementAccountId: '111111111111',
    now: NOW,
    organizationalUnits: [
      { id: 'ou-test-workloads', name: 'Workloads' },
      { id: 'ou-test-dev', name: 'Development', parentId: 'ou-test-workloads' },
      { id: 'ou-test-prod', name: 'Production', parentId: 'ou-test-workloads' },
      { id: 'ou-test-other', name: 'Other' }
    ],
    accounts: [
      { id: '111111111111', name: 'management', email: 'mgmt@example.com' },
      {
        id: '222222222222',
        name: 'dev',
        email: 'dev@example.com',
        ou: 'ou-test-dev',
        memberRole: true,
        groups: [{ name: 'IAMKeyRotationExemptionGroup', members: ['breakglass'] }],
        users: [
          {
            name: 'alice',
            tags: { owner: 'alice@example.com' },
            keys: [
              {
                ageDays: 95,
                lastUsedDaysAgo: 1,
                lastUsedService: 'dynamodb',
                lastUsedRegion: 'eu-west-1'
              },
              { ageDays: 10, status: 'Inactive', lastUsedDaysAgo: null }
            ]
          },
          {
            name: 'bob',
            tags: { owner: 'bob@example.com' },
            keys: [{ ageDays: 20, lastUsedDaysAgo: null }]
          },
          { name: 'breakglass', keys: [{ ageDays: 400 }] },
          { name: 'carol' },
          { name: 'dave', path: '/service/' }
        ]
      },
      {
        id: '333333333333',
        name: 'prod',
        email: 'prod@example.com',
        ou: 'ou-test-prod',
        memberRole: true,
        users: [{ name: 'alice', keys: [{ ageDays: 5, lastUsedDaysAgo: 0 }] }]
      },
      { id: '444444444444', name: 'no-role', email: 'norole@example.com', ou: 'ou-test-other' },
      {
        id: '555555555555',
        name: 'closed',
        email: 'closed@example.com',
        status: 'SUSPENDED',
        ou: 'ou-test-other',
        memberRole: true
      }
    ],
    ses: { verifiedIdentities: ['security@example.com'] },
    ...overrides
  }
}
