import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { resolveCaller } from './callers.js'
import type { EmulatorCore } from './core.js'
import type { RequestTarget } from './faults.js'
import { ServiceError } from './protocol/errors.js'
import { encodeJsonError, encodeJsonResponse, JsonParams } from './protocol/json.js'
import { encodeQueryError, encodeQueryResponse, QueryParams } from './protocol/query.js'
import { parseCredentialScope } from './protocol/sigv4.js'
import type { RequestParams, ResponseValue } from './protocol/values.js'
import { callerArn, type Caller, type RequestContext, type ServiceDefinition } from './service.js'
import { cloudFormationService } from './services/cloudformation.js'
import { iamService } from './services/iam.js'
import { kmsService } from './services/kms.js'
import { organizationsService } from './services/organizations.js'
import { secretsManagerService } from './services/secretsmanager.js'
import { sesService } from './services/ses.js'
import { stsService } from './services/sts.js'

/** Turns one signed AWS request into a response, the way the real endpoint would. */

export interface AwsRequest {
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface AwsReply {
  status: number
  headers: Record<string, string>
  body: string
  /** A crash point fired (`crashAfter`): the request was performed; send nothing. */
  held?: boolean
}

const SERVICES: readonly ServiceDefinition[] = [
  iamService,
  stsService,
  organizationsService,
  secretsManagerService,
  sesService,
  cloudFormationService,
  kmsService
]

/** SigV4 signing name → service. SES v1 has signed as both `email` and `ses`. */
const BY_SIGNING_NAME = new Map<string, ServiceDefinition>([
  ...SERVICES.map(service => [service.name, service] as const),
  ['email', sesService]
])

function header(request: AwsRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Unsigned requests carry no scope: find the service from X-Amz-Target or the Query Action. */
function unsignedService(target: string | undefined, body: string): ServiceDefinition | undefined {
  if (target !== undefined) {
    return SERVICES.find(s => s.protocol === 'json' && target.startsWith(`${s.targetPrefix}.`))
  }
  const action = new URLSearchParams(body).get('Action') ?? ''
  return (
    SERVICES.find(s => s.anonymousOperations?.has(action)) ??
    SERVICES.find(s => s.protocol === 'query' && s.operations.has(action))
  )
}

/** Errors for requests that never reach an operation, in each protocol's own vocabulary. */
const protocolErrors = {
  query: {
    invalidToken: () =>
      new ServiceError(
        'InvalidClientTokenId',
        'The security token included in the request is invalid.'
      ),
    expiredToken: () =>
      new ServiceError(
        'ExpiredToken',
        'The security token included in the request is expired',
        400
      ),
    unknownOperation: (name: string) =>
      new ServiceError('InvalidAction', `Could not find operation ${name} for this service.`),
    missingAuthentication: () =>
      new ServiceError('MissingAuthenticationToken', 'Request is missing Authentication Token')
  },
  json: {
    invalidToken: () =>
      new ServiceError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.'
      ),
    expiredToken: () =>
      new ServiceError(
        'ExpiredTokenException',
        'The security token included in the request is expired'
      ),
    unknownOperation: (name: string) =>
      new ServiceError('UnknownOperationException', `Unknown operation ${name}.`),
    missingAuthentication: () =>
      new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403)
  }
} as const

function reply(
  service: ServiceDefinition,
  operation: string,
  requestId: string,
  outcome: { result: ResponseValue } | { error: ServiceError }
): AwsReply {
  const json = service.protocol === 'json'
  const headers = {
    'content-type': json ? 'application/x-amz-json-1.1' : 'text/xml',
    'x-amzn-requestid': requestId
  }
  if ('error' in outcome) {
    const { error } = outcome
    const body = json
      ? encodeJsonError(error)
      : encodeQueryError(error, service.xmlNamespace, requestId)
    return {
      status: error.status,
      headers: json ? { ...headers, 'x-amzn-errortype': error.code } : headers,
      body
    }
  }
  const body = json
    ? encodeJsonResponse(outcome.result)
    : encodeQueryResponse(operation, service.xmlNamespace, outcome.result, requestId)
  return { status: 200, headers, body }
}

export class Dispatcher {
  constructor(private readonly core: EmulatorCore) {}

  async handle(request: AwsRequest): Promise<AwsReply> {
    const started = performance.now()
    const requestId = randomUUID()
    const scope = parseCredentialScope(header(request, 'authorization'))
    const target = header(request, 'x-amz-target')
    const service =
      scope !== undefined
        ? BY_SIGNING_NAME.get(scope.service)
        : unsignedService(target, request.body)
    if (!service) {
      return {
        status: 400,
        headers: { 'content-type': 'text/plain' },
        body: `The emulator does not serve this service (${scope?.service ?? 'unsigned request'}).`
      }
    }
    const errors = protocolErrors[service.protocol]
    const region = scope?.region ?? 'us-east-1'
    let operation = 'Unknown'
    let caller: Caller = { kind: 'anonymous' }
    let outcome: { result: ResponseValue } | { error: ServiceError }
    let crashTarget: RequestTarget | undefined
    try {
      let params: RequestParams
      if (service.protocol === 'json') {
        operation = target?.slice(service.targetPrefix.length + 1) ?? 'Unknown'
        params = JsonParams.parse(request.body, service.missingParameter)
      } else {
        const query = QueryParams.parse(request.body, service.missingParameter)
        operation = query.string('Action') ?? 'Unknown'
        params = query
      }
      caller = this.authenticate(scope, service, operation, errors)
      const latency = this.core.faults.latencyMs()
      if (latency > 0) await sleep(latency)
      const handler = service.operations.get(operation)
      if (!handler) throw errors.unknownOperation(operation)
      const userAgent = header(request, 'user-agent')
      this.core.authorizer.authorize({
        state: this.core.state,
        service,
        operation,
        region,
        caller,
        now: this.core.clock.now(),
        params,
        userAgent
      })
      const accountId = caller.kind === 'anonymous' ? undefined : caller.accountId
      const faultTarget: RequestTarget = { service: service.name, operation, accountId, params }
      const injected = this.core.faults.errorFor(faultTarget, service.faultErrors)
      if (injected) throw injected
      const context: RequestContext = {
        state: this.core.state,
        now: this.core.clock.now(),
        region,
        caller,
        faults: this.core.faults,
        issueSecretAccessKey: () => this.core.issueSecretAccessKey(),
        authorize: check =>
          this.core.authorizer.authorizeCheck({
            state: this.core.state,
            service,
            region,
            caller,
            now: this.core.clock.now(),
            userAgent,
            check
          })
      }
      outcome = { result: handler(context, params) }
      crashTarget = faultTarget
    } catch (error) {
      if (error instanceof ServiceError) {
        outcome = { error }
      } else if (error instanceof SyntaxError) {
        outcome = { error: new ServiceError('SerializationException', error.message) }
      } else {
        console.error('emulator: operation failed', service.name, operation, error)
        outcome = {
          error: new ServiceError('InternalFailure', 'The emulator failed: see its log.', 500)
        }
      }
    }
    const response = reply(service, operation, requestId, outcome)
    // Only a request that succeeded counts for a crash point: its change is made.
    const crash = crashTarget && this.core.faults.crashFor(crashTarget)
    this.core.log.record({
      time: this.core.clock.now().toISOString(),
      account: caller.kind === 'anonymous' ? undefined : caller.accountId,
      service: service.name,
      operation,
      region,
      status: response.status,
      errorCode: 'error' in outcome ? outcome.error.code : undefined,
      caller: callerArn(caller),
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      ...(crash ? { held: true } : {})
    })
    if (!crash) return response
    crash.resolve()
    return { ...response, held: true }
  }

  private authenticate(
    scope: ReturnType<typeof parseCredentialScope>,
    service: ServiceDefinition,
    operation: string,
    errors: (typeof protocolErrors)[keyof typeof protocolErrors]
  ): Caller {
    if (scope === undefined) {
      if (service.anonymousOperations?.has(operation)) return { kind: 'anonymous' }
      throw errors.missingAuthentication()
    }
    const resolution = resolveCaller(this.core.state, scope.accessKeyId, this.core.clock.now(), {
      service: service.name,
      region: scope.region
    })
    if ('refused' in resolution) {
      throw resolution.refused === 'expired' ? errors.expiredToken() : errors.invalidToken()
    }
    return resolution.caller
  }
}
