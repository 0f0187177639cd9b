import type { LifecycleUpdate } from './types.js'

// What executing an action records, so the next run's plan can follow the timeline. Planning
// never writes these itself: only an action that really happened may (execution rule 3).

/** After ROTATE stored the new key: the old key's installation grace clock starts at `at`. */
export function lifecycleAfterRotate(
  oldAccessKeyId: string,
  newAccessKeyId: string,
  at: Date
): LifecycleUpdate {
  return {
    accessKeyId: oldAccessKeyId,
    changes: { rotatedAt: at, replacementKeyId: newAccessKeyId },
    cause: 'rotated'
  }
}

/** After DEACTIVATE: the key's recovery grace clock starts at `at`. */
export function lifecycleAfterDeactivate(accessKeyId: string, at: Date): LifecycleUpdate {
  return { accessKeyId, changes: { deactivatedAt: at }, cause: 'deactivated' }
}
