import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EmulatorCore } from './core.js'
import { Dispatcher } from './dispatcher.js'
import type { CrashRule, Faults } from './faults.js'
import { handleInspection, INSPECTION_PREFIX } from './inspection.js'
import type { RequestCounts, RequestLogEntry } from './request-log.js'
import type { StateSnapshot } from './snapshot.js'
import type { SecretValueWrite, SentEmail } from './state.js'
import type { World } from './world.js'

export interface EmulatorOptions {
  /** The organization to start from (default: an empty organization, management 111111111111). */
  world?: World
  /** 0 or absent: any free port. */
  port?: number
  /** Entries kept in the request log ring buffer (counts are always exact). Default 10,000. */
  requestLogSize?: number
}

/** A running emulator: its URL and, in-process, everything the inspection API offers. */
export interface Emulator {
  /** e.g. http://127.0.0.1:PORT — give it to the SDK as `endpoint` or AWS_ENDPOINT_URL. */
  readonly url: string
  readonly port: number
  close(): Promise<void>
  state(accountId?: string): StateSnapshot
  /** The last requests (at most `limit`), oldest first. */
  requests(limit?: number): RequestLogEntry[]
  requestCounts(): RequestCounts
  emails(): SentEmail[]
  /**
   * Every secret value written through the API since the world loaded (CreateSecret with a
   * value, PutSecretValue, UpdateSecret with a value), oldest first, with whether the secret had
   * its resource policy at that moment. World secrets are not listed.
   */
  secretValueWrites(): SecretValueWrite[]
  /** Every secret access key the emulator has handed out, for leak checks. */
  issuedSecrets(): string[]
  /** Reloads the current world with the real-time clock; clears the log, mail and value writes. */
  reset(): void
  loadWorld(world: World): void
  now(): Date
  setNow(date: Date | string): void
  advanceDays(days: number): void
  /** Replaces the faults (crash points set with crashAfter stay until they fire). */
  setFaults(faults: Faults): void
  /**
   * A crash point: the `n`th request matching the rule that succeeds (default the first) is
   * performed, its change kept, but never answered. The promise resolves once that happened,
   * e.g. to kill the caller there (runAction's `killWhen`). It rejects if the world is reloaded
   * or the emulator closes first.
   */
  crashAfter(rule: CrashRule): Promise<void>
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

/**
 * Sends a response dated by the emulator's clock, as AWS dates its own: Node would otherwise add
 * a real-time Date header, and the SDK (and the action) read the time from it.
 */
function send(
  core: EmulatorCore,
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string
): void {
  response.writeHead(status, { ...headers, date: core.clock.now().toUTCString() })
  response.end(body)
}

async function serve(
  core: EmulatorCore,
  dispatcher: Dispatcher,
  request: IncomingMessage,
  response: ServerResponse
): Promise<void> {
  const body = await readBody(request)
  const url = new URL(request.url ?? '/', 'http://emulator')
  if (url.pathname.startsWith(INSPECTION_PREFIX)) {
    const { status, body: payload } = handleInspection(core, request.method ?? 'GET', url, body)
    send(core, response, status, { 'content-type': 'application/json' }, JSON.stringify(payload))
    return
  }
  const reply = await dispatcher.handle({ headers: request.headers, body })
  // A crash point: the caller gets no answer. The connection stays open until the caller goes
  // away or the emulator closes (which destroys every connection).
  if (reply.held) return
  send(core, response, reply.status, reply.headers, reply.body)
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const core = new EmulatorCore(options.world, options.requestLogSize)
  const dispatcher = new Dispatcher(core)
  const server = createServer((request, response) => {
    serve(core, dispatcher, request, response).catch((error: unknown) => {
      console.error('emulator: request failed', error)
      if (response.headersSent) response.end()
      else send(core, response, 500, { 'content-type': 'text/plain' }, 'emulator error')
    })
  })
  // SDK clients keep connections alive between calls; so do we.
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        core.faults.dropCrashes('the emulator closed')
        server.close(error => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
    state: accountId => core.snapshot(accountId),
    requests: limit => core.log.entries(limit),
    requestCounts: () => core.log.counts(),
    emails: () => core.emails(),
    secretValueWrites: () => core.secretValueWrites(),
    issuedSecrets: () => core.issuedSecrets(),
    reset: () => core.reset(),
    loadWorld: world => core.loadWorld(world),
    now: () => core.clock.now(),
    setNow: date => core.clock.setNow(typeof date === 'string' ? new Date(date) : date),
    advanceDays: days => core.clock.advanceDays(days),
    setFaults: faults => core.setFaults(faults),
    crashAfter: rule => core.crashAfter(rule)
  }
}
