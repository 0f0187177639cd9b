import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import { proxyFetch, type ProxySettings } from '../proxy/index.js'

export type GitHubClient = ReturnType<typeof getOctokit>

export interface GitHubClientOptions {
  readonly log: { warning(message: string): void; debug(message: string): void }
  /** REST API root; defaults to GITHUB_API_URL (GitHub Enterprise Server) or api.github.com. */
  readonly baseUrl?: string
  /** Retries of a failed request (5xx, network); 403/404/422 are never retried. Default 3. */
  readonly retries?: number
  /** Milliseconds per second of retry-after and back-off; tests make it small. Default 1000. */
  readonly retryAfterBaseValue?: number
  /** Rate-limit handling: queue writes and wait out limits (default true). */
  readonly throttle?: boolean
  /**
   * HTTPS_PROXY/HTTP_PROXY/NO_PROXY of the run, read as the AWS clients read them. Without it,
   * @actions/github's own proxy choice applies (made once, for GITHUB_API_URL, and always direct
   * to loopback addresses).
   */
  readonly proxy?: ProxySettings
}

/** Retries on hitting a rate limit before giving up on the request. */
const RATE_LIMIT_RETRIES = 2

/**
 * An octokit for the issues API with the throttling plugin (spaces content-creating requests
 * and waits out primary and secondary rate limits, at most twice per request) and the retry
 * plugin (server errors and network failures).
 */
export function createGitHubClient(token: string, options: GitHubClientOptions): GitHubClient {
  const { log } = options
  const base = options.retryAfterBaseValue
  const onLimit =
    (kind: string) =>
    (
      retryAfter: number,
      request: { method: string; url: string },
      _octokit: unknown,
      count: number
    ) => {
      if (count < RATE_LIMIT_RETRIES) {
        log.warning(
          `GitHub ${kind} rate limit on ${request.method} ${request.url}; retrying in ${retryAfter} s.`
        )
        return true
      }
      log.warning(`GitHub ${kind} rate limit on ${request.method} ${request.url}; giving up.`)
      return false
    }
  return getOctokit(
    token,
    {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.proxy ? { request: { fetch: proxyFetch(options.proxy) } } : {}),
      retry: {
        retries: options.retries ?? 3,
        ...(base !== undefined ? { retryAfterBaseValue: base } : {})
      },
      throttle:
        options.throttle === false
          ? { enabled: false }
          : {
              ...(base !== undefined ? { retryAfterBaseValue: base } : {}),
              onRateLimit: onLimit('primary'),
              onSecondaryRateLimit: onLimit('secondary')
            }
    },
    throttling,
    retry
  )
}
