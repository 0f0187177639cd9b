/** The message of anything thrown, including non-Error values. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof error === 'string') return error
  try {
    return JSON.stringify(error)
  } catch {
    return String(error)
  }
}

/** The AWS error code (SDK v3 exception name) of a thrown value, if it has one. */
export function awsErrorCode(error: unknown): string | undefined {
  if (error instanceof Error) return error.name
  return undefined
}
