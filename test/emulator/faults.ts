import { ServiceError } from './protocol/errors.js'
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
  n: number
  /** Error code; default: the service's internal error (ServiceFailure, InternalFailure, …). */
  code?: string
  message?: string
  /** HTTP status; default: the status AWS uses for `code`. */
  status?: number
  /** How many consecutive calls fail, starting at the Nth (default 1). */
  times?: number
}

export interface RequestTarget {
  service: string
  operation: string
  accountId: string | undefined
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

function matches(
  rule: { account?: string; service?: string; operation?: string },
  target: RequestTarget
): boolean {
  return (
    (rule.service === undefined || rule.service === target.service) &&
    (rule.operation === undefined || rule.operation === target.operation) &&
    (rule.account === undefined || rule.account === target.accountId)
  )
}

/** Decides, per request, whether an injected fault applies. */
export class FaultInjector {
  readonly faults: Faults
  private readonly random: SeededRandom
  private readonly failCounters: FailNthCounter[]
  private readonly deniedAssumeRole: ReadonlySet<string>
  private readonly reportUnavailable: ReadonlySet<string>

  constructor(faults: Faults, defaultSeed: number) {
    this.faults = faults
    this.random = new SeededRandom(faults.seed ?? defaultSeed)
    this.failCounters = (faults.failNth ?? []).map(rule => ({ rule, calls: 0 }))
    this.deniedAssumeRole = new Set(faults.assumeRoleDenied ?? [])
    this.reportUnavailable = new Set(faults.credentialReportUnavailable ?? [])
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
