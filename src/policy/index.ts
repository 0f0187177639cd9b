export { evaluateUser } from './evaluate.js'
export { trustRecords, REPLACEMENT_TOLERANCE_MS, type TrustedState } from './trust.js'
export { REASON_CODES, REASON_SENTENCES, reasonSentence, timelineText } from './reasons.js'
export type {
  ActionType,
  ConflictResolution,
  ExemptReason,
  KeyFacts,
  KeyLifecycle,
  KeyStatus,
  LastUsed,
  NewKeyAccess,
  OldKeyInUse,
  LifecycleCause,
  LifecycleField,
  KeyRecord,
  RecordClaim,
  StateFinding,
  LifecycleUpdate,
  PlannedAction,
  PolicyParams,
  ReasonCode,
  UserDecision,
  UserFacts
} from './types.js'
