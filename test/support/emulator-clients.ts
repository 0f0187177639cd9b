import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { IAMClient } from '@aws-sdk/client-iam'
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import type { Emulator, World } from '../emulator/index.js'
import { REPO_ROOT } from './action-yml.js'
import { AMBIENT_CREDENTIALS } from './emulated-action.js'

const REGION = 'us-east-1'

/**
 * An IAM client acting in `accountId` through its member role, as someone fixing a problem by
 * hand would: AssumeRole from the ambient (central) credentials, then plain IAM calls.
 */
export async function memberIamClient(
  emulator: Emulator,
  accountId: string,
  roleName = 'iam-key-rotation-member'
): Promise<IAMClient> {
  const sts = new STSClient({
    region: REGION,
    endpoint: emulator.url,
    credentials: {
      accessKeyId: AMBIENT_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: AMBIENT_CREDENTIALS.AWS_SECRET_ACCESS_KEY
    }
  })
  try {
    const { Credentials: credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accountId}:role/${roleName}`,
        RoleSessionName: 'test-operator'
      })
    )
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
      throw new Error(`AssumeRole into ${accountId} returned no credentials`)
    }
    return new IAMClient({
      region: REGION,
      endpoint: emulator.url,
      credentials: {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {})
      }
    })
  } finally {
    sts.destroy()
  }
}

/** The emulator's demo organization, examples/demo-world.json. */
export function demoWorld(): World {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'examples/demo-world.json'), 'utf8')) as World
}

/**
 * A world as it looks after the documented bootstrap and a first deployment: the member-role
 * StackSet exists with today's template (or `templateBody`) and has an instance in every member
 * account that has the role (scripts/demo.ts does the same for the demo).
 */
export function asDeployed(world: World, templateBody?: string): World {
  const central = `arn:aws:iam::${world.managementAccountId}:role/iam-key-rotation-central`
  const instances = (world.accounts ?? [])
    .filter(account => account.memberRole && account.id !== world.managementAccountId)
    .map(account => ({ account: account.id }))
  return {
    ...world,
    cloudformation: {
      ...world.cloudformation,
      stackSets: [
        {
          name: 'iam-key-rotation-member',
          templateBody: templateBody ?? memberTemplate(),
          parameters: {
            MemberRoleName: 'iam-key-rotation-member',
            CentralRoleArn: central,
            OrganizationId: world.organizationId,
            SecretNamePrefix: 'iam-key-rotation/',
            ExemptionGroupName: 'IAMKeyRotationExemptionGroup'
          },
          autoDeployment: true,
          organizationalUnitIds: [world.rootId ?? `r-${world.organizationId.slice(2, 6)}`],
          instances
        }
      ]
    }
  }
}

/** cfn/member-role.yaml as the repository has it. */
export function memberTemplate(): string {
  return readFileSync(join(REPO_ROOT, 'cfn/member-role.yaml'), 'utf8')
}

/**
 * A secret's value read as an IAM user, with one of its access key ids (the emulator does not
 * check signatures): what an application does to fetch its rotated key.
 */
export async function readSecretAs(
  emulator: Emulator,
  credentials: { accessKeyId: string; secretAccessKey?: string },
  secretId: string,
  region = REGION
): Promise<string | undefined> {
  const client = new SecretsManagerClient({
    region,
    endpoint: emulator.url,
    maxAttempts: 1,
    credentials: { secretAccessKey: 'not-checked-by-the-emulator', ...credentials }
  })
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString
  } finally {
    client.destroy()
  }
}
