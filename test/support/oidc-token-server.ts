import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** An unsigned JWT-shaped token: the emulator does not verify it, only AWS would. */
const TOKEN = ['header', 'payload', 'signature']
  .map(part => Buffer.from(part).toString('base64url'))
  .join('.')

export interface OidcTokenServer {
  /** The environment a runner gives a job with `permissions: id-token: write`. */
  readonly env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string }
  /** The `audience` of every token request, in order. */
  readonly audiences: readonly string[]
  close(): Promise<void>
}

/** What the runner serves at ACTIONS_ID_TOKEN_REQUEST_URL, on loopback. */
export async function startOidcTokenServer(): Promise<OidcTokenServer> {
  const requestToken = 'runner-request-token'
  const audiences: string[] = []
  const server = createServer((request, response) => {
    audiences.push(new URL(request.url ?? '/', 'http://runner').searchParams.get('audience') ?? '')
    const authorized = request.headers.authorization === `Bearer ${requestToken}`
    response.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' })
    response.end(JSON.stringify(authorized ? { value: TOKEN } : { message: 'bad token' }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken
    },
    audiences,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
