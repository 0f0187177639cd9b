import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DEFAULT_GITHUB } from '../emulator/bootstrap.js'

/**
 * The claims of a GitHub Actions OIDC token (`aud` is the audience the job asks for, unless a
 * test sets it). The emulator does not check signatures, only AWS would; it does evaluate the
 * trust policy's conditions on these claims.
 */
export type TokenClaims = Record<string, string | undefined>

const { org, repo, branch } = DEFAULT_GITHUB

/** The GitHub environment the write role trusts by default (cfn/central-github-oidc.yaml). */
export const ROTATION_ENVIRONMENT = 'iam-key-rotation'
/** The rotation workflow file the roles trust by default. */
export const ROTATION_WORKFLOW = `${org}/${repo}/.github/workflows/key-rotation.yml`
/** Owner and repository ids of the immutable subject form. */
export const OWNER_ID = '100001'
export const REPO_ID = '200002'

/**
 * A scheduled run of the rotation workflow's rotate job on the default branch of the default
 * repository, in its environment: what the write role trusts.
 */
export const DEFAULT_CLAIMS: TokenClaims = {
  sub: `repo:${org}/${repo}:environment:${ROTATION_ENVIRONMENT}`,
  repository: `${org}/${repo}`,
  repository_owner: org,
  repository_id: REPO_ID,
  repository_owner_id: OWNER_ID,
  ref: `refs/heads/${branch}`,
  environment: ROTATION_ENVIRONMENT,
  event_name: 'schedule',
  workflow: 'IAM access key rotation',
  job_workflow_ref: `${ROTATION_WORKFLOW}@refs/heads/${branch}`,
  iss: 'https://token.actions.githubusercontent.com'
}

/** The rotate job of an audit run: on the protected branch, without the environment. */
export function auditClaims(): TokenClaims {
  return {
    sub: `repo:${org}/${repo}:ref:refs/heads/${branch}`,
    environment: undefined
  }
}

/** The rotation workflow's dry-run job for pull request `number`: no environment. */
export function pullRequestClaims(number: number): TokenClaims {
  return {
    sub: `repo:${org}/${repo}:pull_request`,
    ref: `refs/pull/${number}/merge`,
    environment: undefined,
    event_name: 'pull_request',
    job_workflow_ref: `${ROTATION_WORKFLOW}@refs/pull/${number}/merge`
  }
}

/** The same job with the immutable subject form (owner and repository ids) GitHub now issues. */
export function immutableSubject(environment?: string): string {
  const context = environment ? `environment:${environment}` : `ref:refs/heads/${branch}`
  return `repo:${org}@${OWNER_ID}/${repo}@${REPO_ID}:${context}`
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/**
 * A token as the runner issues it: `claims` merged over DEFAULT_CLAIMS (undefined removes one),
 * for `audience`. Unsigned: the emulator checks claims, not signatures.
 */
export function oidcToken(claims: TokenClaims, audience = 'sts.amazonaws.com'): string {
  const payload = Object.fromEntries(
    Object.entries({ aud: audience, ...DEFAULT_CLAIMS, ...claims }).filter(
      ([, value]) => value !== undefined
    )
  )
  return [encode({ alg: 'RS256', typ: 'JWT' }), encode(payload), 'signature'].join('.')
}

export interface OidcTokenServer {
  /** The environment a runner gives a job with `permissions: id-token: write`. */
  readonly env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string }
  /** The `audience` of every token request, in order. */
  readonly audiences: readonly string[]
  /** Claims of the tokens issued from now on: merged over DEFAULT_CLAIMS (undefined removes). */
  setClaims(claims: TokenClaims): void
  close(): Promise<void>
}

/** What the runner serves at ACTIONS_ID_TOKEN_REQUEST_URL, on loopback. */
export async function startOidcTokenServer(claims: TokenClaims = {}): Promise<OidcTokenServer> {
  const requestToken = 'runner-request-token'
  const audiences: string[] = []
  let current: TokenClaims = { ...claims }
  const server = createServer((request, response) => {
    const audience = new URL(request.url ?? '/', 'http://runner').searchParams.get('audience') ?? ''
    audiences.push(audience)
    const authorized = request.headers.authorization === `Bearer ${requestToken}`
    const token = oidcToken(current, audience)
    response.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' })
    response.end(JSON.stringify(authorized ? { value: token } : { message: 'bad token' }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken
    },
    audiences,
    setClaims: next => {
      current = { ...next }
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
