import { SimulatePrincipalPolicyCommand, type IAMClient } from '@aws-sdk/client-iam'
import type { SecretSnapshot } from './health.js'

/**
 * Whether IAM lets the user read its secret, as AWS would decide it: `secretsmanager:GetSecretValue`
 * on the secret with its resource policy, and `kms:Decrypt` on its key through Secrets Manager,
 * with the user's policies, groups and permissions boundary (iam:SimulatePrincipalPolicy). Returns
 * undefined when both are allowed, else what is denied.
 */
export async function whyUserCannotRead(
  iam: IAMClient,
  userArn: string,
  snapshot: SecretSnapshot
): Promise<string | undefined> {
  const [, partition = 'aws', region = '', secretAccount = ''] =
    /^arn:([^:]+):secretsmanager:([^:]+):(\d{12}):/.exec(snapshot.arn) ?? []
  // Without it, the simulator takes the resource for the user's own account's, where the secret's
  // policy alone would do: a secret in the central account needs the user's policies as well.
  const resourceOwner = `arn:${partition}:iam::${secretAccount}:root`
  const userName = userArn.slice(userArn.lastIndexOf('/') + 1)
  // The simulator fills in no request context: the keys the policies read (the read-own-secret
  // policy's ${aws:username}, the resource policy's aws:PrincipalArn) are given as the user's.
  const asTheUser = [
    {
      ContextKeyName: 'aws:username',
      ContextKeyType: 'string' as const,
      ContextKeyValues: [userName]
    },
    {
      ContextKeyName: 'aws:PrincipalArn',
      ContextKeyType: 'string' as const,
      ContextKeyValues: [userArn]
    }
  ]
  const checks = [
    {
      ActionNames: ['secretsmanager:GetSecretValue'],
      ResourceArns: [snapshot.arn],
      ...(snapshot.resourcePolicy ? { ResourcePolicy: snapshot.resourcePolicy } : {}),
      ResourceOwner: resourceOwner,
      ContextEntries: asTheUser
    },
    ...(snapshot.kmsKeyId
      ? [
          {
            ActionNames: ['kms:Decrypt'],
            // Decrypt is decided on the key itself; an alias or bare id names no resource here.
            ResourceArns: [
              /^arn:[^:]+:kms:[^:]+:\d{12}:key\//.test(snapshot.kmsKeyId) ? snapshot.kmsKeyId : '*'
            ],
            ContextEntries: [
              ...asTheUser,
              {
                ContextKeyName: 'kms:ViaService',
                ContextKeyType: 'string' as const,
                ContextKeyValues: [`secretsmanager.${region}.amazonaws.com`]
              }
            ]
          }
        ]
      : [])
  ]
  const denied: string[] = []
  for (const check of checks) {
    const answer = await iam.send(
      new SimulatePrincipalPolicyCommand({ PolicySourceArn: userArn, ...check })
    )
    for (const result of answer.EvaluationResults ?? []) {
      if (result.EvalDecision !== 'allowed') {
        denied.push(
          `${result.EvalActionName ?? check.ActionNames[0]} on ${result.EvalResourceName ?? check.ResourceArns[0]} (${result.EvalDecision ?? 'denied'})`
        )
      }
    }
  }
  return denied.length > 0 ? `IAM denies it ${denied.join(' and ')}` : undefined
}
