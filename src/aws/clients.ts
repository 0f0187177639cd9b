import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { IAMClient } from '@aws-sdk/client-iam'
import { KMSClient } from '@aws-sdk/client-kms'
import { OrganizationsClient } from '@aws-sdk/client-organizations'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SESClient } from '@aws-sdk/client-ses'
import { STSClient } from '@aws-sdk/client-sts'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  DeserializeMiddleware,
  InitializeMiddleware
} from '@smithy/types'
import { ProxySelectingAgent, type ProxySettings } from '../proxy/index.js'
import { AwsClock } from './clock.js'
import { CallMetrics } from './metrics.js'
import { permissionHintMiddleware, roleOf, type RoleNames } from './permission-hints.js'

export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider

export interface AwsSettings {
  /** Region of STS, Secrets Manager, SES and CloudFormation calls. IAM and Organizations are global. */
  readonly region: string
  /** Overrides every service endpoint (tests, VPC endpoints). AWS_ENDPOINT_URL works too. */
  readonly endpoint?: string
  /** Attempts per call under adaptive retry; throttled calls back off and retry. */
  readonly maxAttempts?: number
  readonly userAgent?: string
  /** The project's role names: AccessDenied errors then say which template grants the call. */
  readonly roles?: RoleNames
  /** HTTPS_PROXY/HTTP_PROXY/NO_PROXY of the run: every client's connections follow them. */
  readonly proxy?: ProxySettings
}

const DEFAULT_MAX_ATTEMPTS = 10
const USER_AGENT_APP_ID = 'iam-key-rotation-action'

/**
 * Makes every AWS client of a run with the same region, endpoint, adaptive retry, user agent,
 * call metrics and one shared keep-alive connection pool (thousands of account sessions would
 * otherwise each open their own connections), through the proxy when one is set.
 */
export class AwsClientFactory {
  readonly metrics = new CallMetrics()
  /** AWS's time, from the answers of every client made here. */
  readonly clock = new AwsClock()
  private readonly requestHandler: NodeHttpHandler

  constructor(
    readonly settings: AwsSettings,
    maxSockets = 64
  ) {
    const pool = { keepAlive: true, maxSockets }
    const { proxy } = settings
    this.requestHandler = new NodeHttpHandler({
      httpAgent: proxy ? new ProxySelectingAgent('http:', proxy, pool) : new HttpAgent(pool),
      httpsAgent: proxy ? new ProxySelectingAgent('https:', proxy, pool) : new HttpsAgent(pool),
      connectionTimeout: 10_000,
      requestTimeout: 60_000
    })
  }

  sts(credentials?: Credentials): STSClient {
    return this.instrument(new STSClient(this.config(credentials)), credentials)
  }

  organizations(credentials: Credentials | undefined): OrganizationsClient {
    // Organizations is served from us-east-1 in the commercial partition.
    return this.instrument(
      new OrganizationsClient(this.config(credentials, 'us-east-1')),
      credentials
    )
  }

  iam(credentials: Credentials | undefined): IAMClient {
    const client = this.instrument(
      new IAMClient(this.config(credentials, 'us-east-1')),
      credentials
    )
    ;(client.middlewareStack as InstrumentableStack).add(quotaErrorsAreFinal, {
      step: 'deserialize',
      priority: 'high',
      name: 'keyRotationIamQuotaErrors'
    })
    return client
  }

  secretsManager(
    credentials: Credentials | undefined,
    region = this.settings.region
  ): SecretsManagerClient {
    return this.instrument(new SecretsManagerClient(this.config(credentials, region)), credentials)
  }

  kms(credentials: Credentials | undefined, region = this.settings.region): KMSClient {
    return this.instrument(new KMSClient(this.config(credentials, region)), credentials)
  }

  ses(credentials: Credentials | undefined): SESClient {
    return this.instrument(new SESClient(this.config(credentials)), credentials)
  }

  cloudFormation(
    credentials: Credentials | undefined,
    region = this.settings.region
  ): CloudFormationClient {
    return this.instrument(new CloudFormationClient(this.config(credentials, region)), credentials)
  }

  destroy(): void {
    this.requestHandler.destroy()
  }

  private config(credentials: Credentials | undefined, region = this.settings.region) {
    return {
      region,
      ...(credentials ? { credentials } : {}),
      ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
      retryMode: 'adaptive',
      maxAttempts: this.settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      userAgentAppId: this.settings.userAgent ?? USER_AGENT_APP_ID,
      requestHandler: this.requestHandler
    }
  }

  private instrument<C extends { middlewareStack: InstrumentableStack }>(
    client: C,
    credentials: Credentials | undefined
  ): C {
    // High priority puts it outside the deserializer, where service errors are thrown.
    client.middlewareStack.add(this.metrics.middleware(), {
      step: 'deserialize',
      priority: 'high',
      name: 'keyRotationCallMetrics'
    })
    client.middlewareStack.add(this.clock.middleware(), {
      step: 'deserialize',
      priority: 'high',
      name: 'keyRotationAwsClock'
    })
    if (this.settings.roles) {
      client.middlewareStack.add(
        permissionHintMiddleware(this.settings.roles, roleOf(credentials)),
        {
          step: 'initialize',
          name: 'keyRotationPermissionHints'
        }
      )
    }
    return client
  }
}

/**
 * IAM answers a reached quota (10 managed policies per user, 2 access keys, 50 tags) with
 * LimitExceeded, which the SDK counts as throttling: it would retry for minutes and slow every
 * call of that account's client. A quota does not go away by waiting, so the error is renamed to
 * IAM's own code (outside the SDK's throttling list), fails at once, and names the quota.
 */
const quotaErrorsAreFinal: DeserializeMiddleware<object, object> = next => async args => {
  try {
    return await next(args)
  } catch (error) {
    if (error instanceof Error && error.name === 'LimitExceededException') {
      error.name = 'LimitExceeded'
      error.message = `IAM quota reached (not retried): ${error.message}`
    }
    throw error
  }
}

interface InstrumentableStack {
  add(
    middleware: DeserializeMiddleware<object, object>,
    options: { step: 'deserialize'; priority: 'high'; name: string }
  ): void
  add(
    middleware: InitializeMiddleware<object, object>,
    options: { step: 'initialize'; name: string }
  ): void
}
