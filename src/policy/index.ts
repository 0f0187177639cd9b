export { evaluateUser } from './evaluate.js'
export { lifecycleAfterDeactivate, lifecycleAfterRotate } from './lifecycle.js'
export { REASON_CODES, REASON_SENTENCES, reasonSentence, timelineText } from './reasons.js'
export type {
  ActionType,
  ConflictResolution,
  ExemptReason,
  KeyFacts,
  KeyLifecycle,
  KeyStatus,
  LastUsed,
  LifecycleCause,
  LifecycleUpdate,
  PlannedAction,
  PolicyParams,
  ReasonCode,
  UserDecision,
  UserFacts
} from './types.js'
