import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  HandlerExecutionContext
} from '@smithy/types'

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete'
])

export function isThrottlingError(error: unknown): boolean {
  return error instanceof Error && THROTTLING_CODES.has(error.name)
}

/**
 * Counts every attempt of every AWS call by operation, and the attempts that were throttled
 * (and so retried by the SDK's adaptive retry). Registered in the deserialize step, which runs
 * once per attempt, inside the retry loop.
 */
export class CallMetrics {
  private readonly calls = new Map<string, number>()
  throttled = 0

  middleware() {
    return <Output extends object>(
        next: DeserializeHandler<object, Output>,
        context: HandlerExecutionContext
      ) =>
      async (args: DeserializeHandlerArguments<object>) => {
        const service = (context.clientName ?? 'Unknown').replace(/Client$/, '')
        const operation = `${service}.${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`
        this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1)
        try {
          return await next(args)
        } catch (error) {
          if (isThrottlingError(error)) this.throttled++
          throw error
        }
      }
  }

  /** Calls by operation ("IAM.ListAccessKeys"), most frequent first. */
  byOperation(): [string, number][] {
    return [...this.calls.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  }

  total(): number {
    let total = 0
    for (const count of this.calls.values()) total += count
    return total
  }
}
