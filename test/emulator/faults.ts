import { ServiceError } from './protocol/errors.js'
import type { RequestParams } from './protocol/values.js'
import { SeededRandom } from './random.js'

/** Faults a test can inject, from the world file (`faults`) or at runtime. */
export interface Faults {
  /** AssumeRole into these accounts fails with AccessDenied, whatever the trust says. */
  assumeRoleDenied?: string[]
  /** Throttle matching requests with this probability (seeded, so runs are reproducible). */
  throttle?: ThrottleRule[]
  /** Delay before every AWS request: fixed, or uniform in [min, max]. */
  latencyMs?: number | { min: number; max: number }
  /** The Nth matching call (1-based) and the `times - 1` after it fail with the given error. */
  failNth?: FailNthRule[]
  /** Organizations ListAccounts / ListAccountsForParent serve an empty page with a NextToken
   * before every real page, as real Organizations occasionally does. */
  emptyPageWithToken?: boolean
  /** GetCredentialReport fails (ReportNotPresent) in these accounts. */
  credentialReportUnavailable?: string[]
  /** Seed of the PRNG behind `throttle` and `latencyMs` (default: the world seed). */
  seed?: number
}

export interface ThrottleRule {
  /** Account of the caller. */
  account?: string
  service?: string
  operation?: string
  /** Probability in [0, 1]. */
  rate: number
}

export interface FailNthRule {
  service?: string
  account?: string
  operation: string
  /** Only requests whose parameters have these values count (e.g. `{ UserName: 'bob' }`). */
  params?: Record<string, string>
  n: number
  /** Error code; default: the service's internal error (ServiceFailure, InternalFailure, …). */
  code?: string
  message?: string
  /** HTTP status; default: the status AWS uses for `code`. */
  status?: number
  /** How many consecutive calls fail, starting at the Nth (default 1). */
  times?: number
}

/**
 * A crash point (`crashAfter`): the Nth matching request that succeeds (default the first) is
 * performed, its change kept, but never answered, as if the caller died right after AWS acted.
 * Requests that fail (denied, injected failures, AWS errors) do not count.
 */
export interface CrashRule {
  service?: string
  account?: string
  operation: string
  /** Only requests whose parameters have these values count. */
  params?: Record<string, string>
  /** Which matching success is held (1-based, default 1). */
  n?: number
}

export interface RequestTarget {
  service: string
  operation: string
  accountId: string | undefined
  /** The request's parameters, for rules that name some. */
  params?: RequestParams | undefined
}

/** Per-service errors for injected faults. */
export interface FaultErrors {
  throttling(): ServiceError
  internalErrorCode: string
}

interface FailNthCounter {
  rule: FailNthRule
  calls: number
}

/** A crash rule waiting for its request, and the promise `crashAfter` returned. */
export interface PendingCrash {
  readonly rule: CrashRule
  calls: number
  readonly resolve: () => void
  readonly reject: (reason: Error) => void
}

function matches(
  rule: {
    account?: string
    service?: string
    operation?: string
    params?: Record<string, string>
  },
  target: RequestTarget
): boolean {
  return (
    (rule.service === undefined || rule.service === target.service) &&
    (rule.operation === undefined || rule.operation === target.operation) &&
    (rule.account === undefined || rule.account === target.accountId) &&
    Object.entries(rule.params ?? {}).every(
      ([name, value]) => target.params?.string(name) === value
    )
  )
}

/** Decides, per request, whether an injected fault applies. */
export class FaultInjector {
  readonly faults: Faults
  private readonly random: SeededRandom
  private readonly failCounters: FailNthCounter[]
  private readonly deniedAssumeRole: ReadonlySet<string>
  private readonly reportUnavailable: ReadonlySet<string>
  private crashes: PendingCrash[]

  /** `crashes`: crash rules still waiting, carried over from the injector this one replaces. */
  constructor(faults: Faults, defaultSeed: number, crashes: readonly PendingCrash[] = []) {
    this.faults = faults
    this.random = new SeededRandom(faults.seed ?? defaultSeed)
    this.failCounters = (faults.failNth ?? []).map(rule => ({ rule, calls: 0 }))
    this.deniedAssumeRole = new Set(faults.assumeRoleDenied ?? [])
    this.reportUnavailable = new Set(faults.credentialReportUnavailable ?? [])
    this.crashes = [...crashes]
  }

  /** Adds a crash point; the promise resolves once its request was performed and held. */
  crashAfter(rule: CrashRule): Promise<void> {
    const n = rule.n ?? 1
    if (!Number.isInteger(n) || n < 1) throw new Error('crashAfter: n must be a whole number ≥ 1')
    if (!rule.operation) throw new Error('crashAfter: operation is required')
    let resolve = (): void => undefined
    let reject = (_reason: Error): void => undefined
    const promise = new Promise<void>((yes, no) => {
      resolve = yes
      reject = no
    })
    // Dropped rules reject; nobody need listen for that, so it is never an unhandled rejection.
    promise.catch(() => undefined)
    this.crashes.push({ rule: { ...rule, n }, calls: 0, resolve, reject })
    return promise
  }

  /**
   * After a request succeeded: the crash rule it fires, if any (each fires once). The caller
   * holds the response, then calls `resolve`.
   */
  crashFor(target: RequestTarget): PendingCrash | undefined {
    for (const crash of this.crashes) {
      if (!matches(crash.rule, target)) continue
      crash.calls += 1
      if (crash.calls === crash.rule.n) {
        this.crashes = this.crashes.filter(other => other !== crash)
        return crash
      }
    }
    return undefined
  }

  /** Crash rules that have not fired yet. */
  pendingCrashes(): readonly PendingCrash[] {
    return this.crashes
  }

  /** Rejects the promises of the crash rules that never fired, and forgets them. */
  dropCrashes(reason: string): void {
    for (const crash of this.crashes) {
      crash.reject(new Error(`crashAfter ${crash.rule.operation}: ${reason} before it fired`))
    }
    this.crashes = []
  }

  latencyMs(): number {
    const latency = this.faults.latencyMs
    if (latency === undefined) return 0
    if (typeof latency === 'number') return latency
    return this.random.integer(latency.min, latency.max)
  }

  /** The injected error for this request, if any: failNth first, then throttling. */
  errorFor(target: RequestTarget, errors: FaultErrors): ServiceError | undefined {
    for (const counter of this.failCounters) {
      if (!matches(counter.rule, target)) continue
      counter.calls += 1
      const { n, times = 1, code, message, status } = counter.rule
      if (counter.calls >= n && counter.calls < n + times) {
        const errorCode = code ?? errors.internalErrorCode
        return new ServiceError(
          errorCode,
          message ?? `Injected failure of call ${counter.calls} to ${target.operation}.`,
          status
        )
      }
    }
    for (const rule of this.faults.throttle ?? []) {
      if (matches(rule, target) && this.random.next() < rule.rate) return errors.throttling()
    }
    return undefined
  }

  isAssumeRoleDenied(accountId: string): boolean {
    return this.deniedAssumeRole.has(accountId)
  }

  isCredentialReportUnavailable(accountId: string): boolean {
    return this.reportUnavailable.has(accountId)
  }

  get emptyPageWithToken(): boolean {
    return this.faults.emptyPageWithToken === true
  }
}
