// The key policy: shared/spec/key-policy.md, "Decision table", as one pure function.
// Read it next to the spec: each step and case below is a named function, in the spec's order.
//
// Time: every "age ≥ N days" or "now ≥ t + N days" is an exact millisecond comparison of
// `now` with `t + N × 86 400 000 ms`, which is the same as comparing the real-valued age in
// days: a key is expired at exactly R days, and not one millisecond earlier.
//
// How the places the table leaves open are read (the tests pin each one down):
//
// - State. Only records that pass `trustRecords` (trust.ts) are followed; the others are
//   reported as STATE_TAMPERED and the key is evaluated as if it had none.
// - `unknown` last use. The spec: "no deactivation or deletion may rest on it". We read it in
//   the strictest way: this function never emits DEACTIVATE or DELETE for a key whose last use
//   is unknown, whatever the rule. Where a rule would, the step is held for a later run in
//   which the lookup works, and a note says so. An inactive key in the way of a rotation is then
//   "not safe to delete" (the conflict warnings); the LRU choice is BLOCKED, as the spec says.
//   Warnings and ROTATE never remove a key and still happen.
// - Reactivation. Every DEACTIVATE passes one gate: a key a person reactivated after the tool
//   deactivated it gets a new grace period Gi first (KEY_REACTIVATED), and after a second
//   reactivation it is never deactivated again (BLOCKED ROTATION_BLOCKED_BY_OWNER).
// - A key deactivated by step 1 "counts as Inactive with deactivatedAt = now" for steps 2 and
//   3 of the same evaluation, but it is still Active in IAM: it is never deleted in the run
//   that deactivates it. If freeing its slot is what a rotation needs, the rotation waits for
//   the next run (a note says so).
// - "No further warning in step 3" for a step-1 key: step 3 emits no WARN for it; ROTATE,
//   DEACTIVATE and BLOCKED are not warnings and still apply.
// - Active A + Inactive I, A within W of expiry: A is warned (KEY_PENDING_ROTATION) in any
//   case, since it will be rotated at R like a lone key. I is warned about the conflict only
//   when its own recovery would end after A expires; that warning replaces I's step-2 warning,
//   whose due date would be later than the real deletion.
// - Two unrelated Active keys: `forced` is checked before the "older expires within W" warning,
//   as in every other case of the table; otherwise a forced rotation would be ignored exactly
//   while a key is closest to expiry. BLOCKED goes on each expired key, or on the older key
//   when the user is forced and neither has expired.
// - LRU needs both last uses known; a key used less than Gi days ago is never chosen.
// - Shapes the table does not cover (more than two keys, an AWS limit) get steps 1 and 2 only.

import { REASON_SENTENCES, reasonSentence } from './reasons.js'
import { REPLACEMENT_TOLERANCE_MS, trustRecords } from './trust.js'
import type {
  ActionType,
  KeyFacts,
  KeyLifecycle,
  KeyRecord,
  LifecycleField,
  LifecycleUpdate,
  PlannedAction,
  ExemptReason,
  PolicyParams,
  ReasonCode,
  StateFinding,
  UserDecision,
  UserFacts
} from './types.js'

const DAY_MS = 86_400_000

const EXEMPT_NOTES: Record<ExemptReason, string> = {
  'exemption-group': 'Exempt (member of the exemption group): not evaluated.',
  'protected-tag': 'Exempt (tagged iam-key-rotation:protected=true): not evaluated.',
  'outside-user-path': 'Exempt (outside user-path): not evaluated.'
}

/** Decide what happens to one user's keys. Pure: no I/O, no clock; `now` is the only time. */
export function evaluateUser(user: UserFacts, params: PolicyParams, now: Date): UserDecision {
  if (user.exempt) {
    return {
      actions: [],
      notes: [EXEMPT_NOTES[user.exemptReason ?? 'exemption-group']],
      lifecycleUpdates: [],
      trusted: {},
      stateFindings: []
    }
  }
  const trust = trustRecords(user.keys, user.records, now, user)
  const ctx: Context = { user, params, now, out: new Draft(trust.trusted, trust.findings) }
  for (const note of trust.notes) ctx.out.note(note)
  for (const update of trust.updates) ctx.out.record(update)

  const views = user.keys.map(key => viewOf(key, trust.trusted))
  const remaining = interruptedRotations(views, ctx).map(view => seenActive(view, ctx))
  const keys = step1NeverUsedKeys(remaining, ctx)
  const inactiveLeft = step2InactiveKeys(keys, ctx)
  step3RemainingActiveKeys(keys, inactiveLeft, ctx)
  return ctx.out.decision()
}

function viewOf(key: KeyFacts, trusted: Readonly<Record<string, KeyRecord>>): KeyView {
  // Own properties only: key ids are data, not trusted object keys.
  const { createdAt: _created, ...state } = Object.hasOwn(trusted, key.accessKeyId)
    ? (trusted[key.accessKeyId] ?? {})
    : {}
  return { key, id: key.accessKeyId, state, deactivatedNow: false, handledInStep1: false }
}

// ---------------------------------------------------------------------------------------------
// Before the table — state the keys themselves settle

/**
 * Execution rule 3, crash recovery. A recorded intent (`rotationStartedAt`) without a completed
 * rotation means a run stopped mid-rotation. A key created right after the intent is its new
 * key: held by the secret, the rotation got as far as storing it and is recognised; never used
 * and not stored, nobody can have it, so it is deleted (ORPHAN_KEY_REMOVED) and the rotation
 * runs again through the table.
 */
function interruptedRotations(views: readonly KeyView[], ctx: Context): KeyView[] {
  let remaining = [...views]
  for (const view of views) {
    const started = view.state.rotationStartedAt
    if (started === undefined) continue
    const closeIntent = (): void =>
      ctx.out.record({
        accessKeyId: view.id,
        changes: {},
        clears: ['rotationStartedAt'],
        cause: 'intent-closed'
      })
    const made = remaining.find(
      other =>
        other.id !== view.id &&
        other.key.createdAt.getTime() >= started.getTime() - 1_000 &&
        other.key.createdAt.getTime() <= started.getTime() + REPLACEMENT_TOLERANCE_MS
    )
    if (made === undefined || view.state.replacementKeyId === made.id) {
      closeIntent()
      continue
    }
    if (ctx.user.storedSecretKeyId === made.id) {
      const rotatedAt = made.key.createdAt
      ctx.out.record({
        accessKeyId: view.id,
        changes: { rotatedAt, replacementKeyId: made.id },
        clears: ['rotationStartedAt', ...NEW_ROTATION_CLEARS],
        cause: 'rotation-recognised'
      })
      ctx.out.note(
        `${made.id} is taken as this tool's replacement of ${view.id}: an interrupted rotation stored it in the secret; rotation date = its creation, ${rotatedAt.toISOString()}.`
      )
      const { reactivations: _r, reactivationSeenAt: _s, ...state } = view.state
      remaining = remaining.map(other =>
        other === view
          ? { ...view, state: { ...state, rotatedAt, replacementKeyId: made.id } }
          : other
      )
      continue
    }
    if (made.key.lastUsed.kind === 'never' && ctx.user.storedSecretUnknown) {
      ctx.out.note(
        `${made.id} may be left by an interrupted rotation of ${view.id}, but the secret could not be read, so it may hold it; it is not removed.`
      )
      continue
    }
    if (made.key.lastUsed.kind === 'never') {
      // The intent stays until a new one replaces it: if the deletion is held at execution,
      // the next run still knows the key for what it is.
      ctx.out.act('DELETE', made.id, 'ORPHAN_KEY_REMOVED')
      ctx.out.note(
        `${made.id} was created by an interrupted rotation of ${view.id} and never stored or used: it is deleted, and the rotation starts again when due.`
      )
      remaining = remaining.filter(other => other !== made)
      continue
    }
    ctx.out.note(
      made.key.lastUsed.kind === 'unknown'
        ? `${made.id} may be left by an interrupted rotation of ${view.id}, but its last use is unknown (lookup failed); it is not removed.`
        : `${made.id} was created right after a rotation of ${view.id} began, but it has been used, so it is not taken for a leftover of that rotation.`
    )
    if (made.key.lastUsed.kind !== 'unknown') closeIntent()
  }
  return remaining
}

/**
 * State belongs to one inactive period: a key seen Active has left it, so its deactivation dates
 * are dropped and a later deactivation starts a new recovery clock. A key this tool deactivated
 * that is Active again was reactivated by a person; that is counted, never fought.
 */
function seenActive(view: KeyView, ctx: Context): KeyView {
  const { deactivatedAt, firstSeenInactiveAt } = view.state
  if (view.key.status !== 'Active') return view
  if (deactivatedAt === undefined && firstSeenInactiveAt === undefined) return view
  const { deactivatedAt: _d, firstSeenInactiveAt: _f, ...rest } = view.state
  if (deactivatedAt === undefined) {
    ctx.out.record({
      accessKeyId: view.id,
      changes: {},
      clears: ['deactivatedAt', 'firstSeenInactiveAt'],
      cause: 'seen-active'
    })
    return { ...view, state: rest }
  }
  const reactivations = Math.min((view.state.reactivations ?? 0) + 1, 2)
  const changes = { reactivations, reactivationSeenAt: ctx.now }
  ctx.out.record({
    accessKeyId: view.id,
    changes,
    clears: ['deactivatedAt', 'firstSeenInactiveAt'],
    cause: 'reactivation-seen'
  })
  ctx.out.note(
    `${view.id}: Active again after this tool deactivated it on ${deactivatedAt.toISOString()}: a person reactivated it (${reactivations === 1 ? 'first' : 'second'} time).`
  )
  return { ...view, state: { ...rest, ...changes } }
}

/**
 * The one gate before every DEACTIVATE: a reactivated key first gets a new grace period Gi, and
 * after a second reactivation a person decides. Returns whether the key is deactivated.
 */
function deactivate(
  view: KeyView,
  reason: ReasonCode,
  ctx: Context,
  extras: ActionExtras = {}
): boolean {
  const reactivations = view.state.reactivations ?? 0
  const seenAt = view.state.reactivationSeenAt
  if (reactivations >= 2) {
    ctx.out.act('BLOCKED', view.id, 'ROTATION_BLOCKED_BY_OWNER')
    return false
  }
  if (reactivations === 1 && seenAt !== undefined) {
    const graceEnds = addDays(seenAt, ctx.params.installationGraceDays)
    if (!reached(ctx.now, graceEnds)) {
      // The one warning that matters for this key now: it replaces any earlier one.
      ctx.out.withdrawWarning(view.id)
      ctx.out.warn(view.id, 'KEY_REACTIVATED', graceEnds, extras)
      return false
    }
  }
  ctx.out.act('DEACTIVATE', view.id, reason, extras)
  return true
}

// ---------------------------------------------------------------------------------------------
// Step 1 — never-used keys

/**
 * An Active key nobody has ever used is deactivated at R instead of rotated (no replacement:
 * nobody would install it), with a warning W days ahead.
 */
function step1NeverUsedKeys(views: readonly KeyView[], ctx: Context): KeyView[] {
  return views.map(view => {
    const key = view.key
    if (key.status !== 'Active' || key.lastUsed.kind !== 'never') return view
    if (isExpired(key, ctx)) {
      const deactivated = deactivate(view, 'UNUSED_EXPIRED_KEY', ctx)
      return { ...view, deactivatedNow: deactivated, handledInStep1: true, neverRotate: true }
    }
    if (rotationWarningDue(key, ctx)) {
      ctx.out.warn(view.id, 'UNUSED_KEY_PENDING_DELETION', expiresAt(key, ctx))
      return { ...view, handledInStep1: true }
    }
    return view
  })
}

// ---------------------------------------------------------------------------------------------
// Step 2 — inactive keys, each one

/** Deletes inactive keys whose recovery grace has ended; returns the inactive keys that remain. */
function step2InactiveKeys(keys: readonly KeyView[], ctx: Context): KeyView[] {
  const remaining: KeyView[] = []
  for (const view of keys.filter(countsAsInactive)) {
    if (isFirstSighting(view)) {
      // The recovery clock has to start somewhere; for a key someone else deactivated, that is
      // the first run that sees it. Persisted in enforce mode, so the clock does not restart.
      ctx.out.record({
        accessKeyId: view.id,
        changes: { firstSeenInactiveAt: ctx.now },
        cause: 'first-seen-inactive'
      })
    }
    const deleteAt = recoveryEndsAt(view, ctx)
    if (reached(ctx.now, deleteAt)) {
      if (view.key.lastUsed.kind === 'unknown') {
        ctx.out.note(
          `${view.id}: recovery grace period has ended, but its last use is unknown (lookup failed); deletion waits for a run in which it is known.`
        )
      } else if (!view.deactivatedNow) {
        // (A key deactivated in this run cannot get here while Gr ≥ 1; it is never deleted.)
        ctx.out.act('DELETE', view.id, 'RECOVER_GRACE_PERIOD_END')
        continue
      }
    } else if (reached(ctx.now, addDays(deleteAt, -ctx.params.warningDays))) {
      ctx.out.warn(view.id, 'KEY_PENDING_DELETION', deleteAt)
    }
    remaining.push(view)
  }
  return remaining
}

/** Recovery clock start t0: deactivatedAt, else firstSeenInactiveAt, else now (first sighting). */
function recoveryStartsAt(view: KeyView, ctx: Context): Date {
  if (view.deactivatedNow) return ctx.now
  return view.state.deactivatedAt ?? view.state.firstSeenInactiveAt ?? ctx.now
}

function recoveryEndsAt(view: KeyView, ctx: Context): Date {
  return addDays(recoveryStartsAt(view, ctx), ctx.params.recoveryGraceDays)
}

function isFirstSighting(view: KeyView): boolean {
  return (
    view.key.status === 'Inactive' &&
    view.state.deactivatedAt === undefined &&
    view.state.firstSeenInactiveAt === undefined
  )
}

// ---------------------------------------------------------------------------------------------
// Step 3 — the active keys that remain

function step3RemainingActiveKeys(
  keys: readonly KeyView[],
  inactiveLeft: readonly KeyView[],
  ctx: Context
): void {
  const active = keys.filter(view => view.key.status === 'Active' && !view.deactivatedNow)
  const [first, second] = active
  const [inactive] = inactiveLeft

  if (first === undefined) {
    if (ctx.user.forced) {
      ctx.out.note('Forced rotation requested, but the user has no active key left to rotate.')
    }
  } else if (active.length === 1 && inactiveLeft.length === 0) {
    loneActiveKey(first, ctx)
  } else if (active.length === 1 && inactive !== undefined && inactiveLeft.length === 1) {
    activeBesideInactive(first, inactive, ctx)
  } else if (active.length === 2 && second !== undefined && inactiveLeft.length === 0) {
    twoActiveKeys(first, second, ctx)
  } else {
    // AWS allows two keys per user; anything else is outside the table, so change nothing more.
    ctx.out.note(
      `User has ${active.length} active and ${inactiveLeft.length} inactive keys left after steps 1–2, more than the decision table covers; no step-3 action.`
    )
  }
}

/** One Active A, no other key. */
function loneActiveKey(a: KeyView, ctx: Context): void {
  if (a.neverRotate) return
  if (isExpired(a.key, ctx)) {
    rotate(a, 'EXPIRED_ACTIVE_KEY', ctx)
  } else if (ctx.user.forced) {
    rotate(a, 'FORCED_ROTATION', ctx)
  } else if (rotationWarningDue(a.key, ctx) && !a.handledInStep1) {
    ctx.out.warn(a.id, 'KEY_PENDING_ROTATION', expiresAt(a.key, ctx))
  }
}

/** Active A + Inactive I (I not deleted in step 2). */
function activeBesideInactive(a: KeyView, i: KeyView, ctx: Context): void {
  const trigger = rotationTrigger(a, ctx)
  if (trigger !== undefined) {
    freeSlotThenRotate(a, i, trigger, ctx)
    return
  }
  if (!rotationWarningDue(a.key, ctx)) return

  const aExpiresAt = expiresAt(a.key, ctx)
  if (!i.handledInStep1 && recoveryEndsAt(i, ctx).getTime() > aExpiresAt.getTime()) {
    // I will be deleted when A expires, before its recovery ends: say that date, not the later one.
    ctx.out.withdrawWarning(i.id, 'KEY_PENDING_DELETION')
    ctx.out.warn(i.id, 'KEY_PENDING_DELETION_CONFLICT', aExpiresAt)
  }
  if (!a.handledInStep1) ctx.out.warn(a.id, 'KEY_PENDING_ROTATION', aExpiresAt)
}

/** A must be rotated and I holds the second slot: DELETE I, then ROTATE A. */
function freeSlotThenRotate(a: KeyView, i: KeyView, trigger: Trigger, ctx: Context): void {
  if (i.deactivatedNow) {
    ctx.out.note(
      `${a.id}: rotation waits for the next run: ${i.id} is deactivated in this run and still holds the second key slot until it can be deleted.`
    )
    return
  }
  const safeAt = safeToDeleteAt(i, ctx)
  if (safeAt === undefined || !reached(ctx.now, safeAt)) {
    // A key someone deactivated an hour ago keeps its recovery window: wait, and say until when
    // (with its last use unknown, the recovery end, or now once that has passed).
    const due = safeAt ?? latest(recoveryEndsAt(i, ctx), ctx.now)
    if (safeAt === undefined) {
      ctx.out.note(
        `${i.id}: its last use is unknown (lookup failed), so it is not deleted to make room for rotating ${a.id}.`
      )
    }
    ctx.out.withdrawWarning(i.id, 'KEY_PENDING_DELETION')
    ctx.out.warn(i.id, 'KEY_PENDING_DELETION_CONFLICT', due)
    if (!a.handledInStep1) ctx.out.warn(a.id, 'ROTATION_WAITS_FOR_RECOVERY', due)
    return
  }
  const rotateReason = trigger === 'expired' ? 'EXPIRED_ACTIVE_KEY' : 'FORCED_ROTATION'
  // The slot is freed only for a rotation that can happen.
  if (!mayRotate(a, rotateReason, ctx)) return
  ctx.out.withdrawWarning(i.id, 'KEY_PENDING_DELETION')
  ctx.out.act(
    'DELETE',
    i.id,
    trigger === 'expired' ? 'EXPIRED_INACTIVE_KEY_CONFLICT' : 'FORCED_INACTIVE_KEY_CONFLICT'
  )
  ctx.out.act('ROTATE', a.id, rotateReason)
}

/**
 * The one gate before every ROTATE (execution rule 3): a secret under the user's name that this
 * tool did not create is never written, so the rotation is BLOCKED and a person hands the name
 * over. Returns whether the key may be rotated.
 */
function mayRotate(a: KeyView, reason: ReasonCode, ctx: Context): boolean {
  const notOwned = ctx.user.secretNotOwned
  if (notOwned === undefined) return true
  ctx.out.act('BLOCKED', a.id, 'SECRET_NOT_OWNED', {
    detail: `${reasonSentence(reason)} But ${notOwned}. Delete that secret or change secret-name-prefix; the next run then rotates.`
  })
  return false
}

function rotate(a: KeyView, reason: ReasonCode, ctx: Context): void {
  if (mayRotate(a, reason, ctx)) ctx.out.act('ROTATE', a.id, reason)
}

/**
 * When an inactive key becomes safe to delete to free a slot (v2): never used, or last used at
 * least Gr days ago; at the latest when its recovery ends. Undefined when its last use is unknown.
 */
function safeToDeleteAt(i: KeyView, ctx: Context): Date | undefined {
  const lastUse = i.key.lastUsed
  switch (lastUse.kind) {
    case 'never':
      return ctx.now
    case 'unknown':
      return undefined
    case 'date': {
      const byUse = addDays(lastUse.at, ctx.params.recoveryGraceDays)
      const byRecovery = recoveryEndsAt(i, ctx)
      return byUse.getTime() <= byRecovery.getTime() ? byUse : byRecovery
    }
  }
}

/** Two Active keys: either a rotation by this tool under way, or two keys someone else made. */
function twoActiveKeys(x: KeyView, y: KeyView, ctx: Context): void {
  const rotation = findRotation(x, y, ctx)
  if (rotation === undefined) unrelatedActiveKeys(x, y, ctx)
  else rotationUnderWay(rotation, ctx)
}

interface Rotation {
  /** A: the key that was replaced. */
  readonly old: KeyView
  /** B: its replacement. */
  readonly replacement: KeyView
  readonly rotatedAt: Date
}

/** A rotation by this tool: recorded (A.replacementKeyId = B), or recognised from the secret. */
function findRotation(x: KeyView, y: KeyView, ctx: Context): Rotation | undefined {
  const [older, newer] = byCreation(x, y)
  // Older key first, so that the answer never depends on the order IAM lists the keys in.
  for (const [old, replacement] of [
    [older, newer],
    [newer, older]
  ] as const) {
    // trustRecords has checked that rotatedAt matches the replacement's creation.
    if (old.state.replacementKeyId === replacement.id && old.state.rotatedAt !== undefined) {
      return { old, replacement, rotatedAt: old.state.rotatedAt }
    }
  }
  // State lost: if the tool's own secret (its marker verified) holds the newer key, this tool made it.
  if (
    ctx.user.storedSecretKeyId === newer.id &&
    newer.key.createdAt.getTime() > older.key.createdAt.getTime()
  ) {
    const rotatedAt = newer.key.createdAt
    ctx.out.record({
      accessKeyId: older.id,
      changes: { rotatedAt, replacementKeyId: newer.id },
      clears: NEW_ROTATION_CLEARS,
      cause: 'rotation-recognised'
    })
    ctx.out.note(
      `${newer.id} is taken as this tool's replacement of ${older.id} (the tool's secret holds it); rotation date = its creation, ${rotatedAt.toISOString()}.`
    )
    const { reactivations: _r, reactivationSeenAt: _s, ...state } = older.state
    return { old: { ...older, state }, replacement: newer, rotatedAt }
  }
  return undefined
}

/** A new rotation starts its own story: earlier reactivations of the old key are over. */
const NEW_ROTATION_CLEARS: readonly LifecycleField[] = ['reactivations', 'reactivationSeenAt']

/** Two Active, a rotation by this tool: deactivate the old key once installation grace ends. */
function rotationUnderWay({ old, replacement, rotatedAt }: Rotation, ctx: Context): void {
  const deactivateAt = addDays(rotatedAt, ctx.params.installationGraceDays)
  const usedSinceRotation = usedAfter(old.key, rotatedAt)
  const flag = usedSinceRotation === undefined ? {} : { oldKeyUsedSinceRotation: usedSinceRotation }

  if (reached(ctx.now, deactivateAt)) {
    if (usedSinceRotation === undefined) {
      ctx.out.note(
        `${old.id}: installation grace period has ended, but its last use is unknown (lookup failed); deactivation waits for a run in which it is known.`
      )
    } else if (
      newKeyReadable(old, replacement, deactivateAt, ctx, flag) &&
      oldKeyQuiet(old, ctx, flag)
    ) {
      deactivate(old, 'INSTALL_GRACE_PERIOD_END', ctx, flag)
    }
  } else if (
    reached(ctx.now, addDays(deactivateAt, -ctx.params.warningDays)) &&
    !old.handledInStep1 &&
    old.state.reactivations === undefined
  ) {
    ctx.out.warn(old.id, 'KEY_PENDING_DEACTIVATION', deactivateAt, flag)
  }
  if (ctx.user.forced) {
    ctx.out.note(
      `Forced rotation requested, but a rotation is already under way (${replacement.id} replaces ${old.id}); nothing new is started.`
    )
  }
}

/**
 * Execution rule 3: the old key is deactivated only once its user can read the new one (the
 * rotation complete, IAM allowing the read). Until the scan has checked, and while the check
 * fails, it waits: a warning with the fix, and after Gi more days a BLOCKED with a GitHub issue.
 */
function newKeyReadable(
  old: KeyView,
  replacement: KeyView,
  deactivateAt: Date,
  ctx: Context,
  extras: ActionExtras
): boolean {
  const access = ctx.user.newKeyAccess
  if (access?.accessKeyId === replacement.id && access.readable) return true
  if (access?.accessKeyId !== replacement.id) ctx.out.awaitAccessCheck(replacement.id)
  const problem =
    access?.accessKeyId === replacement.id
      ? `${access.problem ?? 'it cannot read it'}${access.fix ? `. Fix: ${access.fix}` : ''}`
      : 'it has not been checked yet'
  const escalatesAt = addDays(deactivateAt, ctx.params.installationGraceDays)
  const detail = `${ctx.user.userName} cannot read ${replacement.id} yet: ${problem}.`
  if (reached(ctx.now, escalatesAt)) {
    ctx.out.act('BLOCKED', old.id, 'DEACTIVATION_WAITS_FOR_NEW_KEY', { ...extras, detail })
  } else {
    ctx.out.warn(old.id, 'DEACTIVATION_WAITS_FOR_NEW_KEY', escalatesAt, { ...extras, detail })
  }
  return false
}

/**
 * `old-key-in-use: wait`: an old key used within the last `oldKeyQuietDays` days is not
 * deactivated (BLOCKED OLD_KEY_STILL_IN_USE, naming where it was used); it is once it goes quiet.
 */
function oldKeyQuiet(old: KeyView, ctx: Context, extras: ActionExtras): boolean {
  const lastUse = old.key.lastUsed
  if (ctx.params.oldKeyInUse !== 'wait' || lastUse.kind !== 'date') return true
  const quietFrom = addDays(lastUse.at, ctx.params.oldKeyQuietDays)
  if (reached(ctx.now, quietFrom)) return true
  const where = [lastUse.service, lastUse.region].filter(Boolean).join(' in ')
  ctx.out.act('BLOCKED', old.id, 'OLD_KEY_STILL_IN_USE', {
    ...extras,
    detail: `Last used ${lastUse.at.toISOString()}${where ? ` (${where})` : ''}; it is deactivated once unused for ${ctx.params.oldKeyQuietDays} days, from ${quietFrom.toISOString()}. Move that caller to the new key.`
  })
  return false
}

/** Two Active, not a rotation by this tool: the user has no free slot for a replacement. */
function unrelatedActiveKeys(x: KeyView, y: KeyView, ctx: Context): void {
  const pair = byCreation(x, y)
  const expired = pair.filter(view => isExpired(view.key, ctx))
  if (expired.length > 0 || ctx.user.forced) {
    resolveConflict(pair, expired, ctx)
    return
  }
  const [older] = pair
  if (rotationWarningDue(older.key, ctx) && !older.handledInStep1) {
    ctx.out.warn(older.id, 'KEY_PENDING_EXPIRATION_CONFLICT', expiresAt(older.key, ctx))
  }
}

/**
 * An expired key (or a forced user) with two Active keys. `issue`: BLOCKED, a person decides.
 * `lru`: deactivate the least recently used key; the next run frees its slot and rotates the
 * other one through the Active + Inactive rows.
 */
function resolveConflict(
  pair: readonly [KeyView, KeyView],
  expired: readonly KeyView[],
  ctx: Context
): void {
  if (ctx.params.conflictResolution === 'lru') {
    const choice = leastRecentlyUsed(pair, ctx)
    if ('key' in choice) {
      const reason =
        expired.length > 0 ? 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU' : 'FORCED_ROTATION_CONFLICT_LRU'
      deactivate(choice.key, reason, ctx)
      return
    }
    ctx.out.note(`conflict-resolution lru: ${choice.refusal}; blocked instead.`)
  }
  // Forced with neither key expired: the older key stands for the rotation that cannot happen.
  const blocked = expired.length > 0 ? expired : [pair[0]]
  for (const view of blocked) ctx.out.act('BLOCKED', view.id, 'ROTATION_BLOCKED_BY_CONFLICT')
}

/**
 * Least recently used: never used first, then oldest last use, then oldest creation. Refused
 * when a last use is unknown (no order can be known) or when even that key was used within
 * the last Gi days (deactivating it would likely break a working client).
 */
function leastRecentlyUsed(
  pair: readonly [KeyView, KeyView],
  ctx: Context
): { key: KeyView } | { refusal: string } {
  const unknown = pair.find(view => view.key.lastUsed.kind === 'unknown')
  if (unknown !== undefined) {
    return { refusal: `last use of ${unknown.id} is unknown, so neither key can be chosen` }
  }
  const [a, b] = pair
  const lru = compareLeastRecentUse(a.key, b.key) <= 0 ? a : b
  const lastUse = lru.key.lastUsed
  if (
    lastUse.kind === 'date' &&
    !reached(ctx.now, addDays(lastUse.at, ctx.params.installationGraceDays))
  ) {
    return {
      refusal: `the least recently used key, ${lru.id}, was used within the last ${ctx.params.installationGraceDays} days`
    }
  }
  return { key: lru }
}

function compareLeastRecentUse(a: KeyFacts, b: KeyFacts): number {
  const neverA = a.lastUsed.kind === 'never'
  const neverB = b.lastUsed.kind === 'never'
  if (neverA !== neverB) return neverA ? -1 : 1
  if (a.lastUsed.kind === 'date' && b.lastUsed.kind === 'date') {
    const byUse = a.lastUsed.at.getTime() - b.lastUsed.at.getTime()
    if (byUse !== 0) return byUse
  }
  return compareCreation(a, b)
}

// ---------------------------------------------------------------------------------------------
// Facts and time

type Trigger = 'expired' | 'forced'

/** Why A must be rotated now, if it must: age first (first match wins), then force. */
function rotationTrigger(a: KeyView, ctx: Context): Trigger | undefined {
  if (a.neverRotate) return undefined
  if (isExpired(a.key, ctx)) return 'expired'
  return ctx.user.forced ? 'forced' : undefined
}

function expiresAt(key: KeyFacts, ctx: Context): Date {
  return addDays(key.createdAt, ctx.params.rotationDays)
}

/** age ≥ R */
function isExpired(key: KeyFacts, ctx: Context): boolean {
  return reached(ctx.now, expiresAt(key, ctx))
}

/** age ≥ R − W */
function rotationWarningDue(key: KeyFacts, ctx: Context): boolean {
  return reached(ctx.now, addDays(expiresAt(key, ctx), -ctx.params.warningDays))
}

/** Used after `moment`? `undefined` when the last use is unknown. */
function usedAfter(key: KeyFacts, moment: Date): boolean | undefined {
  switch (key.lastUsed.kind) {
    case 'date':
      return key.lastUsed.at.getTime() > moment.getTime()
    case 'never':
      return false
    case 'unknown':
      return undefined
  }
}

function countsAsInactive(view: KeyView): boolean {
  return view.key.status === 'Inactive' || view.deactivatedNow
}

/** Older key first (creation, then id, so that the result never depends on input order). */
function byCreation(x: KeyView, y: KeyView): [KeyView, KeyView] {
  return compareCreation(x.key, y.key) <= 0 ? [x, y] : [y, x]
}

function compareCreation(a: KeyFacts, b: KeyFacts): number {
  const byTime = a.createdAt.getTime() - b.createdAt.getTime()
  if (byTime !== 0) return byTime
  if (a.accessKeyId === b.accessKeyId) return 0
  return a.accessKeyId < b.accessKeyId ? -1 : 1
}

function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS)
}

function latest(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b
}

function reached(now: Date, moment: Date): boolean {
  return now.getTime() >= moment.getTime()
}

// ---------------------------------------------------------------------------------------------
// Collecting the decision

interface Context {
  readonly user: UserFacts
  readonly params: PolicyParams
  readonly now: Date
  readonly out: Draft
}

interface KeyView {
  readonly key: KeyFacts
  readonly id: string
  readonly state: KeyLifecycle
  /** Step 1 deactivates it in this run: counts as Inactive from here on, yet Active in IAM. */
  readonly deactivatedNow: boolean
  /** Step 1 planned an action for it: step 3 adds no warning. */
  readonly handledInStep1: boolean
  /** Never used and expired: deactivated, not replaced, also while the deactivation is held. */
  readonly neverRotate?: boolean
}

type ActionExtras = Pick<PlannedAction, 'oldKeyUsedSinceRotation' | 'detail'>

// Execution rule 2: DELETE frees the slot ROTATE needs, so deletions go first.
const EXECUTION_ORDER: Readonly<Record<ActionType, number>> = {
  DELETE: 0,
  DEACTIVATE: 1,
  ROTATE: 2,
  BLOCKED: 3,
  WARN: 4
}

class Draft {
  private actions: PlannedAction[] = []
  private readonly notes: string[] = []
  private readonly lifecycleUpdates: LifecycleUpdate[] = []
  private accessCheck: string | undefined

  constructor(
    private readonly trusted: Readonly<Record<string, KeyRecord>>,
    private readonly stateFindings: readonly StateFinding[]
  ) {}

  act(
    type: Exclude<ActionType, 'WARN'>,
    accessKeyId: string,
    reason: ReasonCode,
    extras: ActionExtras = {}
  ): void {
    this.actions.push({ type, accessKeyId, reason, message: REASON_SENTENCES[reason], ...extras })
  }

  warn(accessKeyId: string, reason: ReasonCode, dueAt: Date, extras: ActionExtras = {}): void {
    // Two rules may lead to the same warning (the reactivation gate before step 1 and LRU).
    const same = (a: PlannedAction) =>
      a.type === 'WARN' && a.accessKeyId === accessKeyId && a.reason === reason
    if (this.actions.some(same)) return
    this.actions.push({
      type: 'WARN',
      accessKeyId,
      reason,
      message: REASON_SENTENCES[reason],
      dueAt,
      ...extras
    })
  }

  /** Drops the key's warning with `reason`, or every warning of the key without one. */
  withdrawWarning(accessKeyId: string, reason?: ReasonCode): void {
    this.actions = this.actions.filter(
      action =>
        !(
          action.type === 'WARN' &&
          action.accessKeyId === accessKeyId &&
          (reason === undefined || action.reason === reason)
        )
    )
  }

  note(text: string): void {
    this.notes.push(text)
  }

  record(update: LifecycleUpdate): void {
    this.lifecycleUpdates.push(update)
  }

  awaitAccessCheck(replacementKeyId: string): void {
    this.accessCheck = replacementKeyId
  }

  decision(): UserDecision {
    // Array.prototype.sort is stable: within one type, actions keep the table's order.
    const actions = [...this.actions].sort(
      (p, q) => EXECUTION_ORDER[p.type] - EXECUTION_ORDER[q.type]
    )
    return {
      actions,
      notes: [...this.notes],
      lifecycleUpdates: [...this.lifecycleUpdates],
      trusted: { ...this.trusted },
      stateFindings: [...this.stateFindings],
      ...(this.accessCheck === undefined ? {} : { awaitsAccessCheck: this.accessCheck })
    }
  }
}
