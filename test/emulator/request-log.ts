/** What the emulator remembers about requests: exact counts always, details for the last N. */

export interface RequestLogEntry {
  /** Emulator clock, ISO. */
  time: string
  /** The caller's account (undefined for unsigned or unresolvable callers). */
  account: string | undefined
  service: string
  operation: string
  region: string
  status: number
  errorCode: string | undefined
  /** The caller's ARN; secret keys are never logged. */
  caller: string
  durationMs: number
  /** A crash point fired: performed, never answered (see Emulator.crashAfter). */
  held?: true
}

export interface RequestCounts {
  total: number
  byAccount: Record<string, number>
  byService: Record<string, number>
  /** Keyed `service:Operation`, like IAM actions (e.g. `iam:ListAccessKeys`). */
  byOperation: Record<string, number>
  byErrorCode: Record<string, number>
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

export class RequestLog {
  private readonly ring: (RequestLogEntry | undefined)[]
  private next = 0
  private total = 0
  private readonly byAccount = new Map<string, number>()
  private readonly byService = new Map<string, number>()
  private readonly byOperation = new Map<string, number>()
  private readonly byErrorCode = new Map<string, number>()

  constructor(readonly capacity = 10_000) {
    this.ring = new Array<RequestLogEntry | undefined>(capacity)
  }

  record(entry: RequestLogEntry): void {
    this.ring[this.next] = entry
    this.next = (this.next + 1) % this.capacity
    this.total += 1
    if (entry.account !== undefined) increment(this.byAccount, entry.account)
    increment(this.byService, entry.service)
    increment(this.byOperation, `${entry.service}:${entry.operation}`)
    if (entry.errorCode !== undefined) increment(this.byErrorCode, entry.errorCode)
  }

  /** The most recent entries (at most `limit`), oldest first. */
  entries(limit = this.capacity): RequestLogEntry[] {
    const kept = Math.min(this.total, this.capacity, Math.max(0, limit))
    const out: RequestLogEntry[] = []
    for (let i = kept; i > 0; i--) {
      const entry = this.ring[(this.next - i + this.capacity) % this.capacity]
      if (entry) out.push(entry)
    }
    return out
  }

  counts(): RequestCounts {
    return {
      total: this.total,
      byAccount: Object.fromEntries(this.byAccount),
      byService: Object.fromEntries(this.byService),
      byOperation: Object.fromEntries(this.byOperation),
      byErrorCode: Object.fromEntries(this.byErrorCode)
    }
  }

  clear(): void {
    this.ring.fill(undefined)
    this.next = 0
    this.total = 0
    for (const counts of [this.byAccount, this.byService, this.byOperation, this.byErrorCode]) {
      counts.clear()
    }
  }
}
