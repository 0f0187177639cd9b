import type { KeyRecord } from '../policy/index.js'

/**
 * The tool's memory between runs lives in tags on the IAM user, two per access key:
 *   iam-key-rotation:AKIA…      =  "created=2026-09-01T10:00:00Z rotated=… replacement=AKIA… deactivated=…"
 *   iam-key-rotation:sig:AKIA…  =  the record's signature by the state key (src/state/signing.ts)
 * Tag values allow only letters, digits, spaces and _.:/=+-@, hence this flat format instead of
 * JSON. The creation date ties the tag to a credential-report slot, so a planned run can name a
 * key without listing the user's keys. Both tags are always written in one TagUser call.
 */
export const LIFECYCLE_TAG_PREFIX = 'iam-key-rotation:'
export const SIGNATURE_TAG_PREFIX = 'iam-key-rotation:sig:'

export type { KeyRecord }

const FIELDS = {
  created: 'createdAt',
  rotated: 'rotatedAt',
  replacement: 'replacementKeyId',
  deactivated: 'deactivatedAt',
  firstSeenInactive: 'firstSeenInactiveAt',
  reactivated: 'reactivationSeenAt',
  reactivations: 'reactivations',
  rotationStarted: 'rotationStartedAt',
  warned: 'warnedAt'
} as const satisfies Record<string, keyof KeyRecord>

type Field = keyof typeof FIELDS

export function lifecycleTagKey(accessKeyId: string): string {
  return `${LIFECYCLE_TAG_PREFIX}${accessKeyId}`
}

export function signatureTagKey(accessKeyId: string): string {
  return `${SIGNATURE_TAG_PREFIX}${accessKeyId}`
}

/** A lifecycle tag names an access key id; other tool tags (iam-key-rotation:protected) are not. */
export function isLifecycleTag(tagKey: string): boolean {
  return (
    tagKey.startsWith(LIFECYCLE_TAG_PREFIX) &&
    /^[A-Z0-9]{16,128}$/.test(tagKey.slice(LIFECYCLE_TAG_PREFIX.length))
  )
}

export function encodeKeyRecord(record: KeyRecord): string {
  const parts: string[] = []
  for (const [field, property] of Object.entries(FIELDS) as [Field, keyof KeyRecord][]) {
    const value = record[property]
    if (value === undefined) continue
    parts.push(`${field}=${value instanceof Date ? isoSeconds(value) : value}`)
  }
  return parts.join(' ')
}

/** Reads a tag value; unknown fields and malformed dates are ignored rather than trusted. */
export function decodeKeyRecord(value: string): KeyRecord {
  const record: Record<string, Date | string | number> = {}
  for (const part of value.split(' ')) {
    const separator = part.indexOf('=')
    const field = part.slice(0, separator) as Field
    const property = FIELDS[field] as keyof KeyRecord | undefined
    if (separator < 0 || property === undefined) continue
    const raw = part.slice(separator + 1)
    if (property === 'replacementKeyId') {
      if (/^[A-Z0-9]{16,128}$/.test(raw)) record[property] = raw
      continue
    }
    if (property === 'reactivations') {
      if (raw === '1' || raw === '2') record[property] = Number(raw)
      continue
    }
    const date = new Date(raw)
    if (!Number.isNaN(date.getTime())) record[property] = date
  }
  return record
}

/** One key's record as its tags hold it: the raw value (what the signature covers) and signature. */
export interface TaggedRecord {
  readonly value: string
  readonly record: KeyRecord
  readonly signature?: string
}

/** Lifecycle records by access key id, from a user's tags (key → value). */
export function recordsFromTags(tags: ReadonlyMap<string, string>): Map<string, TaggedRecord> {
  const records = new Map<string, TaggedRecord>()
  for (const [key, value] of tags) {
    if (!isLifecycleTag(key)) continue
    const accessKeyId = key.slice(LIFECYCLE_TAG_PREFIX.length)
    const signature = tags.get(signatureTagKey(accessKeyId))
    records.set(accessKeyId, {
      value,
      record: decodeKeyRecord(value),
      ...(signature === undefined ? {} : { signature })
    })
  }
  return records
}

export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
