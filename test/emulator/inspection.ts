import type { EmulatorCore } from './core.js'
import { parseFaults, parseWorld, WorldError } from './world.js'

/**
 * The inspection API under /_emulator/: plain JSON, no auth, for tests, demos and people.
 *   GET  state[?account=ID]   GET requests[?limit=N]   GET request-counts   GET emails
 *   GET  secret-value-writes  GET issued-secrets
 *   GET  clock                POST clock {now} | {advanceDays}
 *   GET  faults               POST faults {...}   POST world {...}   POST reset   GET health
 */

export const INSPECTION_PREFIX = '/_emulator/'

export interface InspectionReply {
  status: number
  body: unknown
}

function jsonBody(text: string): unknown {
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new WorldError('the request body is not valid JSON')
  }
}

function clockChange(core: EmulatorCore, body: unknown): void {
  if (typeof body !== 'object' || body === null)
    throw new WorldError('expected {now} or {advanceDays}')
  const { now, advanceDays } = body as Record<string, unknown>
  if (typeof now === 'string') {
    const date = new Date(now)
    if (Number.isNaN(date.getTime())) throw new WorldError(`now: ${now} is not a date`)
    core.clock.setNow(date)
  } else if (typeof advanceDays === 'number' && Number.isFinite(advanceDays)) {
    core.clock.advanceDays(advanceDays)
  } else {
    throw new WorldError('expected {"now": ISO date} or {"advanceDays": number}')
  }
}

export function handleInspection(
  core: EmulatorCore,
  method: string,
  url: URL,
  body: string
): InspectionReply {
  const route = `${method} ${url.pathname.slice(INSPECTION_PREFIX.length).replace(/\/$/, '')}`
  try {
    switch (route) {
      case 'GET health':
        return { status: 200, body: { ok: true } }
      case 'GET state':
        return { status: 200, body: core.snapshot(url.searchParams.get('account') ?? undefined) }
      case 'GET requests': {
        const limit = url.searchParams.get('limit')
        return { status: 200, body: core.log.entries(limit === null ? undefined : Number(limit)) }
      }
      case 'GET request-counts':
        return { status: 200, body: core.log.counts() }
      case 'GET emails':
        return { status: 200, body: core.emails() }
      case 'GET secret-value-writes':
        return { status: 200, body: core.secretValueWrites() }
      case 'GET issued-secrets':
        return { status: 200, body: core.issuedSecrets() }
      case 'GET clock':
        return { status: 200, body: { now: core.clock.now().toISOString() } }
      case 'POST clock':
        clockChange(core, jsonBody(body))
        return { status: 200, body: { now: core.clock.now().toISOString() } }
      case 'GET faults':
        return { status: 200, body: core.faults.faults }
      case 'POST faults':
        core.setFaults(parseFaults(jsonBody(body)))
        return { status: 200, body: core.faults.faults }
      case 'POST world':
        core.loadWorld(parseWorld(jsonBody(body)))
        return { status: 200, body: { ok: true, accounts: core.state.accounts.size } }
      case 'POST reset':
        core.reset()
        return { status: 200, body: { ok: true } }
      default:
        return { status: 404, body: { error: `no inspection route ${route}` } }
    }
  } catch (error) {
    if (error instanceof WorldError) return { status: 400, body: { error: error.message } }
    throw error
  }
}
