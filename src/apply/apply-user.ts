import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
  type IAMClient
} from '@aws-sdk/client-iam'
import {
  reasonSentence,
  type KeyRecord,
  type LastUsed,
  type LifecycleUpdate,
  type PolicyParams
} from '../policy/index.js'
import type { PlanAction, PlanSecretRepair } from '../plan/types.js'
import { lastUsedOf, listKeys, type ScannedUser } from '../scan/account-scan.js'
import { encodeKeyRecord, lifecycleTagKey, signatureTagKey } from '../scan/lifecycle-tags.js'
import { READ_OWN_SECRET_POLICY_NAME, readOwnSecretPolicyArn } from '../secrets/health.js'
import type { SecretStore } from '../secrets/store.js'
import { recordMessage, type StateSigner } from '../state/signing.js'
import { awsErrorCode, errorMessage } from '../util/errors.js'

const DAY_MS = 86_400_000

export interface ApplyContext {
  readonly accountId: string
  readonly iam: IAMClient
  readonly secrets: SecretStore
  readonly policy: PolicyParams
  readonly now: Date
  /** AWS's time now (the run's `now` moves on while it acts): when a change really happened. */
  readonly clock: () => Date
  readonly partition: string
  /** Signs every record written (the central write role's kms:Sign). */
  readonly signer: StateSigner
  /** Hides a secret from every log line, at once. */
  readonly mask: (secret: string) => void
  /** Why the secrets' replica keys cannot be used here (replica-key-check.ts); undefined: they can. */
  readonly replicaKeyProblem?: string
}

const CHANGES_AWS = new Set<PlanAction['type']>(['ROTATE', 'DEACTIVATE', 'DELETE'])
/** Reasons that rest on a key not being used: a live use since planning cancels them. */
const RESTS_ON_NON_USE = new Set<PlanAction['reason']>(['UNUSED_EXPIRED_KEY', 'ORPHAN_KEY_REMOVED'])
const LEAST_RECENTLY_USED = new Set<PlanAction['reason']>([
  'EXPIRED_ACTIVE_KEY_CONFLICT_LRU',
  'FORCED_ROTATION_CONFLICT_LRU'
])

/**
 * Carries out one user's secret repairs, then its planned actions (enforce mode), in plan order:
 * DELETE, DEACTIVATE, ROTATE. Updates each repair's and action's `result` in place. Never
 * throws: a failure is recorded where it happened and the next user goes on.
 */
export async function applyUser(
  ctx: ApplyContext,
  user: ScannedUser,
  actions: PlanAction[],
  repairs: PlanSecretRepair[] = []
): Promise<void> {
  const changing = actions.filter(action => CHANGES_AWS.has(action.type))
  // Drift first: nothing is written into the secret until it is again as the tool made it.
  const secretUsable = await repairSecret(ctx, user, repairs)
  if (changing.length === 0 && user.decision.lifecycleUpdates.length === 0) return

  // Execution rule 1: act only on the keys the plan was made from.
  let liveKeys
  try {
    liveKeys = await listKeys(ctx.iam, user.userName)
  } catch (error) {
    for (const action of changing)
      fail(action, `could not re-read the keys: ${errorMessage(error)}`)
    return
  }
  if (!sameKeys(liveKeys, user)) {
    for (const action of changing) {
      action.result = 'skipped'
      action.error = `STATE_CHANGED: ${reasonSentence('STATE_CHANGED')}`
    }
    return
  }

  // Writes build on the records the policy trusted, never on the tags as read: a forged tag
  // is overwritten by the next signed record of its key, never merged into it.
  const records = new Map(Object.entries(user.decision.trusted))
  for (const update of user.decision.lifecycleUpdates) applyUpdate(records, user, update)
  try {
    await saveRecords(ctx, user.userName, records, [
      ...new Set(user.decision.lifecycleUpdates.map(u => u.accessKeyId))
    ])
  } catch (error) {
    for (const action of changing)
      fail(action, `could not record the key state: ${errorMessage(error)}`)
    return
  }

  let slotFreed = true
  for (const action of changing) {
    try {
      switch (action.type) {
        case 'DELETE':
          if (!(await deleteKey(ctx, user, action, records))) slotFreed = false
          break
        case 'DEACTIVATE':
          await deactivateKey(ctx, user, action, records)
          break
        case 'ROTATE':
          if (!slotFreed) {
            action.result = 'skipped'
            action.error = 'the other key could not be deleted, so there is no free key slot'
          } else if (ctx.replicaKeyProblem !== undefined) {
            fail(
              action,
              `${ctx.replicaKeyProblem}; no new key was created and the old key is untouched`
            )
          } else if (!secretUsable) {
            action.result = 'skipped'
            action.error =
              'the secret could not be repaired (see its repairs), so no new key is written into it; the old key is untouched'
          } else {
            await rotateKey(ctx, user, action, records)
          }
          break
        case 'WARN':
        case 'BLOCKED':
          break
      }
    } catch (error) {
      fail(action, errorMessage(error))
      if (action.type === 'DELETE') slotFreed = false
    }
  }
}

/** A record after `update`: its clears dropped, its changes set, the creation date IAM's. */
function applyUpdate(
  records: Map<string, KeyRecord>,
  user: ScannedUser,
  update: LifecycleUpdate
): void {
  const kept: Record<string, unknown> = { ...records.get(update.accessKeyId) }
  for (const field of update.clears ?? []) delete kept[field]
  const createdAt = user.facts.keys.find(k => k.accessKeyId === update.accessKeyId)?.createdAt
  records.set(update.accessKeyId, {
    ...(kept as KeyRecord),
    ...update.changes,
    ...(createdAt ? { createdAt } : {})
  })
}

function fail(action: PlanAction, message: string): void {
  action.result = 'failed'
  action.error = message
}

function sameKeys(
  live: readonly { AccessKeyId?: string | undefined; Status?: string | undefined }[],
  user: ScannedUser
): boolean {
  const planned = user.facts.keys
  return (
    live.length === planned.length &&
    live.every(key =>
      planned.some(p => p.accessKeyId === key.AccessKeyId && p.status === key.Status)
    )
  )
}

/**
 * Live last use right before removing a key, and a reason to hold back if the plan no longer
 * holds: the lookup failed (unknown is never evidence of non-use), or the key was used although
 * the action rested on it not being used.
 */
async function recheckLastUse(
  ctx: ApplyContext,
  action: PlanAction
): Promise<{ lastUsed: LastUsed; holdBack?: string }> {
  const lastUsed = await lastUsedOf(ctx.iam, action.accessKeyId)
  if (lastUsed.kind === 'unknown') {
    return {
      lastUsed,
      holdBack:
        'its last use could not be verified right before acting; it is checked again next run'
    }
  }
  if (RESTS_ON_NON_USE.has(action.reason) && lastUsed.kind === 'date') {
    return {
      lastUsed,
      holdBack: `STATE_CHANGED: the key was used on ${lastUsed.at.toISOString()}, after the plan was made`
    }
  }
  // The invariant behind every deletion: no key used within the last Gr days is deleted.
  if (action.type === 'DELETE' && usedWithin(lastUsed, ctx, ctx.policy.recoveryGraceDays)) {
    return {
      lastUsed,
      holdBack: `STATE_CHANGED: the key was used on ${lastUsed.kind === 'date' ? lastUsed.at.toISOString() : ''}, within the recovery grace period`
    }
  }
  // old-key-in-use: wait decided on the report's last use, up to 4 hours old: the live one holds.
  if (
    action.reason === 'INSTALL_GRACE_PERIOD_END' &&
    ctx.policy.oldKeyInUse === 'wait' &&
    usedWithin(lastUsed, ctx, ctx.policy.oldKeyQuietDays)
  ) {
    return {
      lastUsed,
      holdBack: `STATE_CHANGED: the key was used on ${lastUsed.kind === 'date' ? lastUsed.at.toISOString() : ''}, within old-key-quiet-days`
    }
  }
  if (
    LEAST_RECENTLY_USED.has(action.reason) &&
    usedWithin(lastUsed, ctx, ctx.policy.installationGraceDays)
  ) {
    return {
      lastUsed,
      holdBack:
        'STATE_CHANGED: the key was used recently, so it is no longer the least recently used'
    }
  }
  return { lastUsed }
}

function usedWithin(lastUsed: LastUsed, ctx: ApplyContext, days: number): boolean {
  return lastUsed.kind === 'date' && ctx.now.getTime() - lastUsed.at.getTime() < days * DAY_MS
}

async function deleteKey(
  ctx: ApplyContext,
  user: ScannedUser,
  action: PlanAction,
  records: Map<string, KeyRecord>
): Promise<boolean> {
  const { holdBack } = await recheckLastUse(ctx, action)
  if (holdBack) {
    action.result = 'skipped'
    action.error = holdBack
    return false
  }
  await ctx.iam.send(
    new DeleteAccessKeyCommand({ UserName: user.userName, AccessKeyId: action.accessKeyId })
  )
  action.result = 'done'
  records.delete(action.accessKeyId)
  if (hasRecordTags(user, action.accessKeyId)) {
    try {
      await ctx.iam.send(
        new UntagUserCommand({
          UserName: user.userName,
          TagKeys: [lifecycleTagKey(action.accessKeyId), signatureTagKey(action.accessKeyId)]
        })
      )
    } catch (error) {
      // The key is gone, which is what counts; a record of a missing key steers nothing.
      action.error = `The key is deleted, but removing its record failed: ${errorMessage(error)}`
    }
  }
  return true
}

/** The user had tags for this key (a record, trusted or not): they go with the key. */
function hasRecordTags(user: ScannedUser, accessKeyId: string): boolean {
  return Object.hasOwn(user.facts.records, accessKeyId)
}

async function deactivateKey(
  ctx: ApplyContext,
  user: ScannedUser,
  action: PlanAction,
  records: Map<string, KeyRecord>
): Promise<void> {
  const { lastUsed, holdBack } = await recheckLastUse(ctx, action)
  if (holdBack) {
    action.result = 'skipped'
    action.error = holdBack
    return
  }
  const rotatedAt = records.get(action.accessKeyId)?.rotatedAt
  if (action.reason === 'INSTALL_GRACE_PERIOD_END' && rotatedAt && lastUsed.kind !== 'unknown') {
    action.oldKeyUsedSinceRotation = lastUsed.kind === 'date' && lastUsed.at > rotatedAt
  }
  // Recorded first: a crash after the deactivation must not hide that the tool made it (a
  // person's reactivation is then recognised). A crash before it leaves a record the next run
  // reads as a reactivation, which waits longer, never less.
  const before = records.get(action.accessKeyId)
  applyUpdate(records, user, {
    accessKeyId: action.accessKeyId,
    changes: { deactivatedAt: ctx.clock() },
    cause: 'deactivated'
  })
  await saveRecords(ctx, user.userName, records, [action.accessKeyId])
  try {
    await ctx.iam.send(
      new UpdateAccessKeyCommand({
        UserName: user.userName,
        AccessKeyId: action.accessKeyId,
        Status: 'Inactive'
      })
    )
  } catch (error) {
    // The key stays active: take the record back, so the next run does not see a reactivation.
    if (before) records.set(action.accessKeyId, before)
    else records.delete(action.accessKeyId)
    await saveRecords(ctx, user.userName, records, [action.accessKeyId]).catch(() => undefined)
    throw error
  }
  action.result = 'done'
}

/**
 * ROTATE = record the intent → create the key → store it (the key id in the same write) →
 * protect and attach → record the rotation. If storing fails the new key is deleted again, so
 * the old key stays the user's only working key. A crash between steps is recovered by the next
 * run: the intent identifies a new key nobody has (deleted as an orphan), and the secret's
 * version identifies one that was stored (recognised as this rotation).
 */
async function rotateKey(
  ctx: ApplyContext,
  user: ScannedUser,
  action: PlanAction,
  records: Map<string, KeyRecord>
): Promise<void> {
  applyUpdate(records, user, {
    accessKeyId: action.accessKeyId,
    changes: { rotationStartedAt: ctx.clock() },
    cause: 'rotation-started'
  })
  try {
    await saveRecords(ctx, user.userName, records, [action.accessKeyId])
  } catch (error) {
    throw new Error(
      `recording the rotation's intent failed (${errorMessage(error)}); no key was created and the old key is untouched`,
      { cause: error }
    )
  }
  const created = await ctx.iam.send(new CreateAccessKeyCommand({ UserName: user.userName }))
  const newKey = created.AccessKey
  if (!newKey?.AccessKeyId || !newKey.SecretAccessKey) {
    throw new Error('CreateAccessKey returned no key')
  }
  ctx.mask(newKey.SecretAccessKey)
  const stored = {
    accountId: ctx.accountId,
    userName: user.userName,
    accessKeyId: newKey.AccessKeyId,
    secretAccessKey: newKey.SecretAccessKey,
    previousAccessKeyId: action.accessKeyId,
    createdAt: newKey.CreateDate ?? ctx.now
  }

  // The secret exists, with its owner-only policy, before the key is written: made now, or
  // found (and repaired) by this run, its policy put again right before the write. A secret
  // someone else made under the name never gets here (the policy blocks that rotation).
  let secretArn: string | undefined = user.secret?.snapshot.arn
  try {
    if (secretArn === undefined) {
      secretArn = await ctx.secrets.create(ctx.accountId, user.userName, user.arn, ctx.clock())
    } else {
      await ctx.secrets.protect(ctx.accountId, secretArn, user.arn)
    }
    await ctx.secrets.writeValue(stored, secretArn)
  } catch (storeError) {
    // A write whose answer was lost may have happened: a key the secret holds is kept.
    const heldAnyway =
      secretArn !== undefined &&
      (await ctx.secrets.holdsKey(ctx.accountId, secretArn, newKey.AccessKeyId).catch(() => false))
    if (!heldAnyway || secretArn === undefined) {
      await deleteNewKey(ctx, user, action, newKey.AccessKeyId, storeError)
      throw new Error(
        `storing the new key failed (${errorMessage(storeError)}); the new key was deleted again and the old key is untouched`,
        { cause: storeError }
      )
    }
  }
  action.newAccessKeyId = newKey.AccessKeyId
  action.secretArn = secretArn

  // Done only when every step holds; a failed step is named and a later run completes it.
  const failedSteps: string[] = []
  const attempt = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step()
    } catch (error) {
      failedSteps.push(`${what} failed: ${errorMessage(error).replace(/\.+$/, '')}`)
    }
  }
  await attempt('granting the user read access to its secret', () => grantReadOwnSecret(ctx, user))
  // The rotation is dated by the new key's own creation, which later runs check it against.
  applyUpdate(records, user, {
    accessKeyId: action.accessKeyId,
    changes: { rotatedAt: stored.createdAt, replacementKeyId: newKey.AccessKeyId },
    clears: ['rotationStartedAt', 'reactivations', 'reactivationSeenAt'],
    cause: 'rotated'
  })
  await attempt('recording the rotation in the user tags', () =>
    saveRecords(ctx, user.userName, records, [action.accessKeyId])
  )
  if (failedSteps.length === 0) {
    action.result = 'done'
    return
  }
  action.result = 'failed'
  action.error = `The new key is stored, but ${failedSteps.join('; ')}. The old key stays active until the next runs complete the rotation.`
}

/** Deletes the key a failed rotation made, so the old key stays the user's only working key. */
async function deleteNewKey(
  ctx: ApplyContext,
  user: ScannedUser,
  action: PlanAction,
  accessKeyId: string,
  cause: unknown
): Promise<void> {
  try {
    await ctx.iam.send(
      new DeleteAccessKeyCommand({ UserName: user.userName, AccessKeyId: accessKeyId })
    )
  } catch (rollbackError) {
    action.newAccessKeyId = accessKeyId
    throw new Error(
      `storing the new key failed (${errorMessage(cause)}) and deleting it again failed too ` +
        `(${errorMessage(rollbackError)}): delete access key ${accessKeyId} of ${user.userName} by hand; the old key is untouched`,
      { cause: rollbackError }
    )
  }
}

/**
 * Puts the secret's drift right, each repair on its own (one failing does not stop the others).
 * Returns whether the secret may be written into: its policy, key and marker as the tool made them.
 */
async function repairSecret(
  ctx: ApplyContext,
  user: ScannedUser,
  repairs: PlanSecretRepair[]
): Promise<boolean> {
  const inspected = user.secret
  if (!inspected?.check.owned) return inspected === undefined
  let usable = true
  for (const [index, problem] of inspected.check.problems.entries()) {
    const repair = repairs[index]
    try {
      if (problem.repair.kind === 'read-grant') await grantReadOwnSecret(ctx, user)
      else if (
        problem.repair.kind === 'replicas' &&
        problem.repair.add.length > 0 &&
        ctx.replicaKeyProblem !== undefined
      ) {
        throw new Error(ctx.replicaKeyProblem)
      } else await ctx.secrets.repair(inspected, problem)
      if (repair) repair.result = 'done'
    } catch (error) {
      // Only the grant is the user's side: any other drift left means no value goes in.
      if (problem.repair.kind !== 'read-grant') usable = false
      if (repair) {
        repair.result = 'failed'
        repair.error = errorMessage(error)
      }
    }
  }
  return usable
}

/** Attaches iam-key-rotation-read-own-secret (idempotent). */
async function grantReadOwnSecret(ctx: ApplyContext, user: ScannedUser): Promise<void> {
  try {
    await ctx.iam.send(
      new AttachUserPolicyCommand({
        UserName: user.userName,
        PolicyArn: readOwnSecretPolicyArn(ctx.partition, ctx.accountId)
      })
    )
  } catch (error) {
    if (awsErrorCode(error) !== 'LimitExceeded') throw error
    throw new Error(
      `${errorMessage(error)}: this user has 10 managed policies; detach one or raise the quota, and the next run attaches ${READ_OWN_SECRET_POLICY_NAME}`,
      { cause: error }
    )
  }
}

/**
 * Writes the records of `accessKeyIds`, each with its signature, in one TagUser call: a record
 * and its signature never exist apart.
 */
async function saveRecords(
  ctx: ApplyContext,
  userName: string,
  records: ReadonlyMap<string, KeyRecord>,
  accessKeyIds: readonly string[]
): Promise<void> {
  const tags = []
  for (const id of accessKeyIds) {
    const record = records.get(id)
    if (!record) continue
    const value = encodeKeyRecord(record)
    const signature = await ctx.signer.sign(recordMessage(ctx.accountId, userName, id, value))
    tags.push(
      { Key: lifecycleTagKey(id), Value: value },
      { Key: signatureTagKey(id), Value: signature }
    )
  }
  if (tags.length > 0) await ctx.iam.send(new TagUserCommand({ UserName: userName, Tags: tags }))
}
