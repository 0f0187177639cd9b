export {
  blockedIssue,
  changedComment,
  desiredIssues,
  failedAccountIssue,
  resolvedComment,
  type DesiredIssue
} from './bodies.js'
export { createGitHubClient, type GitHubClient, type GitHubClientOptions } from './client.js'
export {
  fingerprint,
  fingerprintMarker,
  parseFingerprint,
  parseSubjectMarker,
  subjectKey,
  subjectMarker,
  type IssueSubject
} from './markers.js'
export {
  syncIssues,
  type IssueLog,
  type IssueRef,
  type IssueSyncOptions,
  type IssueSyncResult,
  type RepoRef
} from './sync.js'
