import { createHash } from 'node:crypto'

/** What an issue is about; its marker in the body lets later runs find it again. */
export type IssueSubject =
  | {
      /** blocked: a rotation that cannot go on; tampered: records that failed verification. */
      readonly kind: 'blocked' | 'tampered'
      readonly accountId: string
      readonly userName: string
    }
  | { readonly kind: 'account-failed'; readonly accountId: string }
  /** The one issue listing the problems over max-new-issues that wait for their own issue. */
  | { readonly kind: 'rollup' }

const PREFIX = 'iam-key-rotation'
const SUBJECT_MARKER = new RegExp(
  `<!-- ${PREFIX}:(?:(blocked|tampered):(\\d{12}):([\\w+=,.@-]{1,64})|account-failed:(\\d{12})|(rollup)) -->`
)
const FINGERPRINT_MARKER = new RegExp(`<!-- ${PREFIX}:fingerprint:([0-9a-f]{1,64}) -->`)

/** A stable key per subject, e.g. `blocked:222222222222:ci-bot`. */
export function subjectKey(subject: IssueSubject): string {
  switch (subject.kind) {
    case 'rollup':
      return 'rollup'
    case 'account-failed':
      return `account-failed:${subject.accountId}`
    case 'blocked':
    case 'tampered':
      return `${subject.kind}:${subject.accountId}:${markerSafe(subject.userName)}`
  }
}

/**
 * IAM user names are `[\w+=,.@-]` and pass unchanged; anything else (which IAM would not have
 * given us) is percent-encoded, so no value can end the HTML comment the marker lives in.
 */
function markerSafe(userName: string): string {
  return userName.replace(/[^\w+=,.@-]/g, char => encodeURIComponent(char))
}

/** The hidden marker, e.g. `<!-- iam-key-rotation:blocked:222222222222:ci-bot -->`. */
export function subjectMarker(subject: IssueSubject): string {
  return `<!-- ${PREFIX}:${subjectKey(subject)} -->`
}

export function parseSubjectMarker(body: string | null | undefined): IssueSubject | undefined {
  const match = SUBJECT_MARKER.exec(body ?? '')
  if (!match) return undefined
  const [, kind, accountId, userName, failedAccountId, rollup] = match
  if (rollup !== undefined) return { kind: 'rollup' }
  if (
    (kind === 'blocked' || kind === 'tampered') &&
    accountId !== undefined &&
    userName !== undefined
  ) {
    return { kind, accountId, userName }
  }
  return failedAccountId !== undefined
    ? { kind: 'account-failed', accountId: failedAccountId }
    : undefined
}

/** The hidden marker carrying the evidence fingerprint. */
export function fingerprintMarker(fingerprint: string): string {
  return `<!-- ${PREFIX}:fingerprint:${fingerprint} -->`
}

export function parseFingerprint(body: string | null | undefined): string | undefined {
  return FINGERPRINT_MARKER.exec(body ?? '')?.[1]
}

/** A short hash of evidence, computed over a canonical JSON form. */
export function fingerprint(evidence: unknown): string {
  return createHash('sha256').update(canonicalJson(evidence)).digest('hex').slice(0, 16)
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
