import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

// A small stand-in for the GitHub REST API's issues and labels endpoints, served over loopback
// so octokit, its plugins and its HTTP stack run for real.

export interface FakeIssue {
  number: number
  title: string
  body: string
  state: 'open' | 'closed'
  stateReason?: string
  labels: string[]
  comments: string[]
  pullRequest?: boolean
}

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly body: Record<string, unknown> | undefined
}

export interface Fault {
  readonly method: string
  readonly path: RegExp
  readonly status: number
  readonly message: string
  readonly headers?: Record<string, string>
  /** How many requests fail; unlimited when absent. */
  times?: number
}

/** The author of the comments the workflow token makes. */
const BOT = { login: 'github-actions[bot]', type: 'Bot' }

function asString(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

export class FakeGitHub {
  readonly owner = 'acme'
  readonly repo = 'infra'
  readonly issues: FakeIssue[] = []
  readonly labels = new Set<string>()
  readonly requests: RecordedRequest[] = []
  readonly faults: Fault[] = []
  /** Every answer waits this long: a slow API, so that a run can be stopped in its issue phase. */
  latencyMs = 0
  private readonly arrivals: {
    method: string
    path: RegExp
    resolve: (request: RecordedRequest) => void
  }[] = []
  /** Comment ids (index + 1) to the issue and position of the comment. */
  private readonly commentIds: { issue: FakeIssue; index: number }[] = []
  private server: Server | undefined
  private url = ''

  get baseUrl(): string {
    return this.url
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res)
    })
    await new Promise<void>(resolve => this.server?.listen(0, '127.0.0.1', resolve))
    const { port } = this.server.address() as AddressInfo
    this.url = `http://127.0.0.1:${port}`
  }

  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  addIssue(
    issue: Omit<FakeIssue, 'number' | 'state' | 'comments'> & Partial<FakeIssue>
  ): FakeIssue {
    const created: FakeIssue = {
      number: this.issues.length + 1,
      state: 'open',
      comments: [],
      ...issue
    }
    this.issues.push(created)
    return created
  }

  issue(number: number): FakeIssue {
    const found = this.issues.find(i => i.number === number)
    if (!found) throw new Error(`no issue #${number}`)
    return found
  }

  /** Resolves when a request with this method and path arrives (before it is answered). */
  requestArrives(method: string, path: RegExp): Promise<RecordedRequest> {
    return new Promise(resolve => this.arrivals.push({ method, path, resolve }))
  }

  writes(): RecordedRequest[] {
    return this.requests.filter(r => r.method !== 'GET')
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined
    const url = new URL(req.url ?? '/', this.url)
    const method = req.method ?? 'GET'
    const request = { method, path: url.pathname, body }
    this.requests.push(request)
    for (const arrival of this.arrivals.filter(
      a => a.method === method && a.path.test(request.path)
    )) {
      this.arrivals.splice(this.arrivals.indexOf(arrival), 1)
      arrival.resolve(request)
    }
    if (this.latencyMs > 0) await new Promise(resolve => setTimeout(resolve, this.latencyMs))

    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
      res.end(data === undefined ? '' : JSON.stringify(data))
    }
    const fault = this.faults.find(
      f => f.method === method && f.path.test(url.pathname) && (f.times ?? 1) > 0
    )
    if (fault) {
      if (fault.times !== undefined) fault.times--
      send(fault.status, { message: fault.message }, fault.headers)
      return
    }

    const prefix = `/repos/${this.owner}/${this.repo}`
    if (!url.pathname.startsWith(prefix)) return send(404, { message: 'Not Found' })
    const path = url.pathname.slice(prefix.length)
    let match: RegExpExecArray | null

    if (method === 'GET' && (match = /^\/labels\/([^/]+)$/.exec(path))) {
      const name = decodeURIComponent(match[1] ?? '')
      return this.labels.has(name) ? send(200, { name }) : send(404, { message: 'Not Found' })
    }
    if (method === 'POST' && path === '/labels') {
      const name = asString(body?.name)
      if (this.labels.has(name)) return send(422, { message: 'Validation Failed' })
      this.labels.add(name)
      return send(201, { name })
    }
    if (method === 'GET' && path === '/issues') {
      const state = url.searchParams.get('state') ?? 'open'
      const wanted = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean)
      const perPage = Number(url.searchParams.get('per_page') ?? 30)
      const page = Number(url.searchParams.get('page') ?? 1)
      const matching = this.issues
        .filter(i => state === 'all' || i.state === state)
        .filter(i => wanted.every(label => i.labels.includes(label)))
        .sort((a, b) => b.number - a.number)
      const slice = matching.slice((page - 1) * perPage, page * perPage)
      const headers: Record<string, string> = {}
      if (page * perPage < matching.length) {
        const next = new URL(url)
        next.searchParams.set('page', String(page + 1))
        headers.link = `<${next.href}>; rel="next"`
      }
      return send(
        200,
        slice.map(i => this.view(i)),
        headers
      )
    }
    if (method === 'POST' && path === '/issues') {
      const labels = (body?.labels as string[] | undefined) ?? []
      for (const label of labels) this.labels.add(label)
      const issue = this.addIssue({
        title: asString(body?.title),
        body: asString(body?.body),
        labels
      })
      return send(201, this.view(issue))
    }
    if (method === 'PATCH' && (match = /^\/issues\/(\d+)$/.exec(path))) {
      const issue = this.issues.find(i => i.number === Number(match?.[1]))
      if (!issue) return send(404, { message: 'Not Found' })
      if (typeof body?.title === 'string') issue.title = body.title
      if (typeof body?.body === 'string') issue.body = body.body
      if (body?.state === 'open' || body?.state === 'closed') issue.state = body.state
      if (typeof body?.state_reason === 'string') issue.stateReason = body.state_reason
      return send(200, this.view(issue))
    }
    if (method === 'POST' && (match = /^\/issues\/(\d+)\/comments$/.exec(path))) {
      const issue = this.issues.find(i => i.number === Number(match?.[1]))
      if (!issue) return send(404, { message: 'Not Found' })
      issue.comments.push(asString(body?.body))
      const id = this.commentIds.push({ issue, index: issue.comments.length - 1 })
      return send(201, { id, body: body?.body, user: BOT })
    }
    if (method === 'GET' && (match = /^\/issues\/(\d+)\/comments$/.exec(path))) {
      const issue = this.issues.find(i => i.number === Number(match?.[1]))
      if (!issue) return send(404, { message: 'Not Found' })
      const comments = this.commentIds.flatMap((ref, i) =>
        ref.issue === issue ? [{ id: i + 1, body: issue.comments[ref.index], user: BOT }] : []
      )
      return send(200, comments)
    }
    if (method === 'PATCH' && (match = /^\/issues\/comments\/(\d+)$/.exec(path))) {
      const ref = this.commentIds[Number(match[1]) - 1]
      if (!ref) return send(404, { message: 'Not Found' })
      ref.issue.comments[ref.index] = asString(body?.body)
      return send(200, { id: Number(match[1]), body: body?.body, user: BOT })
    }
    return send(404, { message: `No route for ${method} ${url.pathname}` })
  }

  private view(issue: FakeIssue) {
    return {
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      labels: issue.labels.map(name => ({ name })),
      html_url: `https://github.test/${this.owner}/${this.repo}/issues/${issue.number}`,
      ...(issue.pullRequest ? { pull_request: { url: 'https://github.test/pr' } } : {})
    }
  }
}
