const DAY_MS = 86_400_000

/** Emulator time = real time + an offset, so tests can jump ahead without stopping the clock. */
export class Clock {
  private offsetMs = 0

  now(): Date {
    return new Date(this.nowMs())
  }

  nowMs(): number {
    return Date.now() + this.offsetMs
  }

  setNow(date: Date): void {
    const target = date.getTime()
    if (Number.isNaN(target)) throw new Error('setNow needs a valid date')
    this.offsetMs = target - Date.now()
  }

  advanceDays(days: number): void {
    if (!Number.isFinite(days)) throw new Error('advanceDays needs a finite number')
    this.offsetMs += days * DAY_MS
  }

  reset(): void {
    this.offsetMs = 0
  }
}

export function daysBefore(date: Date, days: number): Date {
  return new Date(date.getTime() - days * DAY_MS)
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000)
}

export { DAY_MS }
