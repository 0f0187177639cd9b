/** Offset-based pagination behind opaque tokens (IAM Marker, NextToken elsewhere). */

export interface PageToken {
  offset: number
  /** Organizations: the empty page the emptyPageWithToken fault inserts was already served. */
  emptyServed: boolean
}

export interface Page<T> {
  items: T[]
  /** Token for the next page; undefined on the last page. */
  next: string | undefined
}

export function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify({ o: token.offset, e: token.emptyServed ? 1 : 0 })).toString(
    'base64url'
  )
}

/** undefined when absent; throws `invalid()` when the token was not made here. */
export function decodeToken(
  token: string | undefined,
  invalid: () => Error
): PageToken | undefined {
  if (token === undefined || token === '') return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
    if (typeof parsed === 'object' && parsed !== null) {
      const { o, e } = parsed as Record<string, unknown>
      if (typeof o === 'number' && Number.isInteger(o) && o >= 0) {
        return { offset: o, emptyServed: e === 1 }
      }
    }
  } catch {
    // fall through: not one of ours
  }
  throw invalid()
}

/** Page size: what the caller asked for (or the default), never above the world's cap. */
export function pageSize(requested: number | undefined, defaultSize: number, cap?: number): number {
  const size = requested !== undefined && requested > 0 ? requested : defaultSize
  return Math.max(1, Math.min(size, cap ?? size))
}

export function pageOf<T>(items: readonly T[], offset: number, size: number): Page<T> {
  const end = offset + size
  return {
    items: items.slice(offset, end),
    next: end < items.length ? encodeToken({ offset: end, emptyServed: false }) : undefined
  }
}
