import type { DeserializeMiddleware } from '@smithy/types'

/** A runner clock further than this from AWS's is reported (execution rule 6). */
export const CLOCK_SKEW_REPORT_MS = 5 * 60_000

/**
 * AWS's time, learned from the `Date` header of AWS's answers (execution rule 6). The run's
 * `now` comes from here, so nothing on the runner (its clock, or a variable an earlier workflow
 * step sets) can move it; a test moves it only by moving the emulator's clock.
 */
export class AwsClock {
  /** AWS time minus runner time, from the first answer that carried a Date header. */
  private offsetMs: number | undefined

  /** Records the header's time; the first answer sets the offset for the whole run. */
  observe(dateHeader: string | undefined): void {
    if (this.offsetMs !== undefined || dateHeader === undefined) return
    const at = Date.parse(dateHeader)
    if (!Number.isNaN(at)) this.offsetMs = at - Date.now()
  }

  /** Whether an AWS answer has set the clock yet. */
  get known(): boolean {
    return this.offsetMs !== undefined
  }

  /** AWS's time now (the runner's until an answer has been seen). */
  now(): Date {
    return new Date(Date.now() + (this.offsetMs ?? 0))
  }

  /** Runner time minus AWS time, in ms (0 until known). */
  get runnerSkewMs(): number {
    return -(this.offsetMs ?? 0)
  }

  /** A client middleware that reads each answer's Date header. */
  middleware(): DeserializeMiddleware<object, object> {
    return next => async args => {
      const result = await next(args)
      const headers = (result.response as { headers?: Record<string, string | undefined> }).headers
      this.observe(headers?.date ?? headers?.Date)
      return result
    }
  }
}

/** The log and plan line for a runner clock far from AWS's, or undefined when they agree. */
export function clockSkewWarning(skewMs: number): string | undefined {
  if (Math.abs(skewMs) <= CLOCK_SKEW_REPORT_MS) return undefined
  const minutes = Math.round(Math.abs(skewMs) / 60_000)
  return `The runner's clock is ${minutes} minutes ${skewMs > 0 ? 'ahead of' : 'behind'} AWS's; this run uses AWS's time (from the Date of its answers).`
}
