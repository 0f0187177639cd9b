import { generateKeyPairSync } from 'node:crypto'
import { parseCloudFormation } from '../../src/deploy/cfn-yaml.js'
import { isRecord, section } from '../cfn/policies.js'
import { parameterProblems, parameterSpecs } from '../../src/deploy/template.js'
import { policyProblems, type PolicyKind } from './authz/evaluate.js'
import { iamArn, normalizePath, putRole, trustFromDocument } from './iam-model.js'
import type { Account, EmulatorState, KmsKeySpec, KmsKeyUsage, ManagedPolicy } from './state.js'
import { deepFreeze } from '../../src/util/freeze.js'

/**
 * Runs CloudFormation templates: the resource types the project's cfn/ templates declare are
 * created, updated and deleted for real, so the roles and policies the emulator evaluates are
 * exactly the ones a user deploys. Intrinsic functions are resolved as CloudFormation does.
 * Other resource types fail the deployment with a message naming them.
 */

/** What one deployed resource left behind, to update or delete it later. */
export interface DeployedResource {
  readonly logicalId: string
  readonly type: string
  /** What `Ref` returns. */
  readonly ref: string
  readonly attributes: Readonly<Record<string, string>>
  readonly retain: boolean
  /** The resource's properties as deployed, to tell drift (undefined: not tracked). */
  readonly fingerprint?: string | undefined
}

export interface Deployment {
  readonly resources: ReadonlyMap<string, DeployedResource>
  readonly outputs: ReadonlyMap<string, string>
}

export interface DeployRequest {
  readonly account: Account
  readonly region: string
  readonly stackName: string
  readonly stackId: string
  /** Who manages what the stack creates: `stack/NAME`, or `stackset/NAME` for an instance. */
  readonly managedBy: string
  readonly templateBody: string
  readonly parameters: ReadonlyMap<string, string>
  /** What an earlier deployment of this stack created: updated in place, or deleted if gone. */
  readonly previous?: ReadonlyMap<string, DeployedResource> | undefined
  readonly now: Date
}

/** A deployment that failed, with CloudFormation's kind of reason. */
export class DeploymentError extends Error {
  override name = 'DeploymentError'
}

const NO_VALUE = Symbol('AWS::NoValue')

type Template = Record<string, unknown>

class Scope {
  readonly refs = new Map<string, string>()
  readonly attributes = new Map<string, Readonly<Record<string, string>>>()
  private readonly conditions = new Map<string, boolean>()

  constructor(
    private readonly template: Template,
    pseudo: Record<string, string>,
    parameters: ReadonlyMap<string, string>
  ) {
    for (const [name, value] of Object.entries(pseudo)) this.refs.set(name, value)
    for (const [name, value] of parameters) this.refs.set(name, value)
  }

  condition(name: string): boolean {
    const known = this.conditions.get(name)
    if (known !== undefined) return known
    const conditions = this.template['Conditions']
    const raw = isRecord(conditions) ? conditions[name] : undefined
    if (raw === undefined) {
      throw new DeploymentError(`Template error: unresolved condition dependency ${name}`)
    }
    const value = this.truth(raw)
    this.conditions.set(name, value)
    return value
  }

  private truth(value: unknown): boolean {
    const resolved = this.resolve(value)
    if (typeof resolved === 'boolean') return resolved
    if (resolved === 'true' || resolved === 'false') return resolved === 'true'
    throw new DeploymentError(
      `Template error: a condition is not a boolean: ${JSON.stringify(value)}`
    )
  }

  private ref(name: string): string | typeof NO_VALUE {
    if (name === 'AWS::NoValue') return NO_VALUE
    const value = this.refs.get(name)
    if (value === undefined) {
      throw new DeploymentError(`Template format error: Unresolved resource dependencies [${name}]`)
    }
    return value
  }

  private getAtt(resource: string, attribute: string): string {
    const value = this.attributes.get(resource)?.[attribute]
    if (value === undefined) {
      throw new DeploymentError(
        `Template error: resource ${resource} does not support attribute type ${attribute} in Fn::GetAtt`
      )
    }
    return value
  }

  private substitute(text: string, variables: Record<string, unknown>): string {
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_whole, bang: string, name: string) => {
      if (bang === '!') return `\${${name}}`
      if (name in variables) {
        const value = this.resolve(variables[name])
        return value === NO_VALUE ? '' : String(value)
      }
      const dot = name.indexOf('.')
      if (dot > 0 && !this.refs.has(name))
        return this.getAtt(name.slice(0, dot), name.slice(dot + 1))
      const value = this.ref(name)
      return value === NO_VALUE ? '' : value
    })
  }

  /** A value with every intrinsic function applied; NO_VALUE where AWS::NoValue removes it. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map(item => this.resolve(item)).filter(item => item !== NO_VALUE)
    }
    if (!isRecord(value)) return value
    const keys = Object.keys(value)
    if (keys.length === 1) {
      const [key = ''] = keys
      const argument = value[key]
      switch (key) {
        case 'Ref':
          return this.ref(String(argument))
        case 'Condition':
          return this.condition(String(argument))
        case 'Fn::If': {
          const [name, whenTrue, whenFalse] = argument as unknown[]
          return this.resolve(this.condition(String(name)) ? whenTrue : whenFalse)
        }
        case 'Fn::Equals': {
          const [a, b] = (argument as unknown[]).map(item => this.resolve(item))
          return String(a) === String(b)
        }
        case 'Fn::Not':
          return !this.truth((argument as unknown[])[0])
        case 'Fn::And':
          return (argument as unknown[]).every(item => this.truth(item))
        case 'Fn::Or':
          return (argument as unknown[]).some(item => this.truth(item))
        case 'Fn::Sub': {
          if (typeof argument === 'string') return this.substitute(argument, {})
          const [text, variables] = argument as [string, Record<string, unknown>]
          return this.substitute(text, variables)
        }
        case 'Fn::GetAtt': {
          const [resource, attribute] = argument as string[]
          return this.getAtt(String(resource), String(attribute))
        }
        case 'Fn::Join': {
          const [separator, items] = argument as [string, unknown]
          return (this.resolve(items) as unknown[]).map(String).join(separator)
        }
        case 'Fn::Select': {
          const [index, items] = argument as [unknown, unknown]
          return (this.resolve(items) as unknown[])[Number(this.resolve(index))]
        }
        case 'Fn::Split': {
          const [separator, text] = argument as [string, unknown]
          return String(this.resolve(text)).split(separator)
        }
        default:
          if (key.startsWith('Fn::')) {
            throw new DeploymentError(`Template error: the emulator does not implement ${key}`)
          }
      }
    }
    const result: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(value)) {
      const resolved = this.resolve(child)
      if (resolved !== NO_VALUE) result[key] = resolved
    }
    return result
  }
}

/** Logical ids a value refers to (Ref, GetAtt, ${…} in Sub), for the creation order. */
function references(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) references(item, into)
  } else if (isRecord(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'Ref' && typeof child === 'string') into.add(child)
      else if (key === 'Fn::GetAtt' && Array.isArray(child)) into.add(String(child[0]))
      else if (key === 'Fn::Sub') {
        const text: unknown =
          typeof child === 'string' ? child : Array.isArray(child) ? child[0] : ''
        for (const match of (typeof text === 'string' ? text : '').matchAll(/\$\{([^!}][^}.]*)/g))
          into.add(match[1] ?? '')
        references(child, into)
      } else references(child, into)
    }
  }
  return into
}

function creationOrder(resources: Record<string, Record<string, unknown>>): string[] {
  const order: string[] = []
  const visiting = new Set<string>()
  const visit = (id: string): void => {
    if (order.includes(id)) return
    if (visiting.has(id)) throw new DeploymentError(`Circular dependency between resources: ${id}`)
    visiting.add(id)
    for (const dependency of references(resources[id], new Set())) {
      if (dependency in resources && dependency !== id) visit(dependency)
    }
    visiting.delete(id)
    order.push(id)
  }
  for (const id of Object.keys(resources)) visit(id)
  return order
}

function text(properties: Record<string, unknown>, name: string): string | undefined {
  const value = properties[name]
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** A policy document property as IAM stores it (JSON text), checked like IAM checks it. */
function documentOf(value: unknown, kind: PolicyKind, where: string): string {
  const document = typeof value === 'string' ? value : JSON.stringify(value)
  const problems = policyProblems(document, kind)
  if (problems.length > 0) {
    throw new DeploymentError(
      `Resource handler returned message: "MalformedPolicyDocument: ${where}: ${problems.join('; ')}"`
    )
  }
  return document
}

interface ResourceContext {
  readonly state: EmulatorState
  readonly account: Account
  readonly region: string
  readonly stackName: string
  readonly managedBy: string
  readonly logicalId: string
  readonly properties: Record<string, unknown>
  readonly previous: DeployedResource | undefined
  readonly now: Date
}

interface ResourceHandler {
  /** Creates or updates the resource; returns what Ref and GetAtt give. */
  deploy(context: ResourceContext): Omit<DeployedResource, 'logicalId' | 'type' | 'retain'>
  delete(state: EmulatorState, account: Account, resource: DeployedResource): void
  /** Captures what an update may change; the returned function puts it back (rollback). */
  snapshot?(account: Account, resource: DeployedResource): () => void
  /** What drift detection compares; undefined when the resource is gone. */
  fingerprint?(account: Account, resource: DeployedResource): string | undefined
  /** The read actions drift detection performs on the caller's behalf. */
  driftReads?: readonly string[]
}

function generatedName(context: ResourceContext, max: number): string {
  const suffix = context.state.ids.uuid().replace(/-/g, '').slice(0, 12).toUpperCase()
  return `${context.stackName}-${context.logicalId}-${suffix}`.slice(-max)
}

function alreadyExists(type: string, name: string): DeploymentError {
  return new DeploymentError(
    `Resource handler returned message: "${type} with name ${name} already exists."`
  )
}

/** What KMS gives a key created without a key policy: the account administers it through IAM. */
export function defaultKeyPolicy(accountId: string): object {
  return {
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*'
      }
    ]
  }
}

/** The key specs (and the one usage each) the emulator models. */
const KEY_USAGES: Readonly<Record<KmsKeySpec, KmsKeyUsage>> = {
  SYMMETRIC_DEFAULT: 'ENCRYPT_DECRYPT',
  ECC_NIST_P256: 'SIGN_VERIFY'
}

function keySpecOf(properties: Record<string, unknown>): {
  keySpec: KmsKeySpec
  keyUsage: KmsKeyUsage
} {
  const spec = text(properties, 'KeySpec') ?? 'SYMMETRIC_DEFAULT'
  const usage = text(properties, 'KeyUsage') ?? 'ENCRYPT_DECRYPT'
  if (!(spec in KEY_USAGES)) {
    throw new DeploymentError(`the emulator does not model KMS keys with KeySpec ${spec}`)
  }
  const keySpec = spec as KmsKeySpec
  if (KEY_USAGES[keySpec] !== usage) {
    throw new DeploymentError(
      `Resource handler returned message: "KeyUsage ${usage} is not compatible with KeySpec ${keySpec}"`
    )
  }
  return { keySpec, keyUsage: KEY_USAGES[keySpec] }
}

const HANDLERS: Record<string, ResourceHandler> = {
  'AWS::IAM::Role': {
    deploy(context) {
      const { account, properties, previous } = context
      const name = text(properties, 'RoleName') ?? previous?.ref ?? generatedName(context, 64)
      const existing = account.iam.roles.get(name)
      if (existing && previous?.ref !== name) throw alreadyExists('Role', name)
      const trust = trustFromDocument(
        documentOf(
          properties['AssumeRolePolicyDocument'],
          'trust',
          `${context.logicalId} trust policy`
        )
      )
      const inline = new Map<string, string>()
      for (const entry of (properties['Policies'] as Record<string, unknown>[] | undefined) ?? []) {
        const policyName = String(entry['PolicyName'])
        inline.set(
          policyName,
          documentOf(
            entry['PolicyDocument'],
            'identity',
            `${context.logicalId} policy ${policyName}`
          )
        )
      }
      const role =
        existing ??
        putRole(context.state, account, {
          name,
          path: text(properties, 'Path'),
          trust,
          createDate: context.now
        })
      role.trust = trust
      role.inlinePolicies = inline
      role.attachedPolicyArns = (
        (properties['ManagedPolicyArns'] as unknown[] | undefined) ?? []
      ).map(String)
      role.permissionsBoundary = text(properties, 'PermissionsBoundary')
      role.description = text(properties, 'Description')
      role.maxSessionDuration = Number(properties['MaxSessionDuration'] ?? 3600)
      role.managedBy = context.managedBy
      role.origin = context.logicalId
      return { ref: role.name, attributes: { Arn: role.arn, RoleId: role.id } }
    },
    delete(_state, account, resource) {
      account.iam.roles.delete(resource.ref)
    },
    fingerprint(account, resource) {
      const role = account.iam.roles.get(resource.ref)
      return (
        role &&
        JSON.stringify([
          role.trust.document,
          [...role.inlinePolicies].sort(),
          [...role.attachedPolicyArns].sort(),
          role.permissionsBoundary ?? null,
          role.maxSessionDuration
        ])
      )
    },
    driftReads: [
      'iam:GetRole',
      'iam:ListRolePolicies',
      'iam:GetRolePolicy',
      'iam:ListAttachedRolePolicies'
    ],
    snapshot(account, resource) {
      const role = account.iam.roles.get(resource.ref)
      if (!role) return () => undefined
      const before = { ...role, inlinePolicies: new Map(role.inlinePolicies) }
      return () => {
        Object.assign(role, before)
      }
    }
  },

  'AWS::IAM::ManagedPolicy': {
    deploy(context) {
      const { account, properties, previous } = context
      const name = text(properties, 'ManagedPolicyName') ?? generatedName(context, 128)
      const path = normalizePath(text(properties, 'Path'))
      const arn = iamArn(account.id, 'policy', path, name)
      const existing = account.iam.policies.get(arn)
      if (existing && previous?.ref !== arn) throw alreadyExists('Policy', name)
      const document = documentOf(properties['PolicyDocument'], 'identity', `${context.logicalId}`)
      const policy: ManagedPolicy = existing ?? {
        name,
        path,
        id: context.state.ids.uniqueId('ANPA', `${account.id}/policy/${name}`),
        arn,
        document,
        description: undefined,
        createDate: context.now,
        tags: new Map()
      }
      policy.document = document
      policy.description = text(properties, 'Description')
      policy.origin = context.logicalId
      account.iam.policies.set(arn, policy)
      return { ref: arn, attributes: { PolicyArn: arn } }
    },
    delete(_state, account, resource) {
      account.iam.policies.delete(resource.ref)
    },
    snapshot(account, resource) {
      const policy = account.iam.policies.get(resource.ref)
      if (!policy) return () => undefined
      const before = { ...policy }
      return () => {
        Object.assign(policy, before)
      }
    }
  },

  'AWS::IAM::Group': {
    deploy(context) {
      const { account, properties, previous } = context
      const name = text(properties, 'GroupName') ?? generatedName(context, 128)
      if (account.iam.groups.has(name) && previous?.ref !== name) throw alreadyExists('Group', name)
      const path = normalizePath(text(properties, 'Path'))
      const arn = iamArn(account.id, 'group', path, name)
      if (!account.iam.groups.has(name)) {
        account.iam.groups.set(name, {
          name,
          path,
          id: context.state.ids.uniqueId('AGPA', `${account.id}/group/${name}`),
          arn,
          createDate: context.now,
          members: []
        })
      }
      return { ref: name, attributes: { Arn: arn } }
    },
    delete(_state, account, resource) {
      account.iam.groups.delete(resource.ref)
    }
  },

  'AWS::IAM::OIDCProvider': {
    deploy(context) {
      const { account, properties, previous } = context
      const url = text(properties, 'Url') ?? ''
      const host = url.replace(/^https:\/\//, '')
      const arn = `arn:aws:iam::${account.id}:oidc-provider/${host}`
      if (account.iam.oidcProviders.has(arn) && previous?.ref !== arn) {
        throw new DeploymentError(
          `Resource handler returned message: "Provider with url ${url} already exists."`
        )
      }
      account.iam.oidcProviders.set(arn, {
        arn,
        url,
        clientIds: ((properties['ClientIdList'] as unknown[] | undefined) ?? []).map(String)
      })
      return { ref: arn, attributes: { Arn: arn } }
    },
    delete(_state, account, resource) {
      account.iam.oidcProviders.delete(resource.ref)
    },
    fingerprint(account, resource) {
      const provider = account.iam.oidcProviders.get(resource.ref)
      return provider && JSON.stringify([provider.url, [...provider.clientIds].sort()])
    },
    driftReads: ['iam:GetOpenIDConnectProvider']
  },

  'AWS::KMS::Key': {
    deploy(context) {
      const { account, properties, previous, region } = context
      const { keySpec, keyUsage } = keySpecOf(properties)
      const policy = documentOf(
        properties['KeyPolicy'] ?? defaultKeyPolicy(account.id),
        'resource',
        `${context.logicalId} key policy`
      )
      const earlier = previous && account.kms.get(previous.attributes['Arn'] ?? '')
      const multiRegion = properties['MultiRegion'] === true || properties['MultiRegion'] === 'true'
      // A new key spec, usage or MultiRegion replaces the key, as CloudFormation does: a new id
      // and key pair. A multi-Region key's id is mrk- and 32 hex digits.
      const kept =
        earlier?.keySpec === keySpec &&
        earlier.keyUsage === keyUsage &&
        (earlier.multiRegionPrimaryArn !== undefined) === multiRegion
          ? earlier
          : undefined
      const id =
        kept?.id ??
        (multiRegion
          ? `mrk-${context.state.ids.uuid().replace(/-/g, '')}`
          : context.state.ids.uuid())
      const arn = `arn:aws:kms:${region}:${account.id}:key/${id}`
      account.kms.set(arn, {
        id,
        arn,
        accountId: account.id,
        region,
        policy,
        enabled: properties['Enabled'] !== false && properties['Enabled'] !== 'false',
        description: text(properties, 'Description'),
        keySpec,
        keyUsage,
        creationDate: kept?.creationDate ?? context.now,
        origin: context.logicalId,
        keyPair:
          kept?.keyPair ??
          (keySpec === 'ECC_NIST_P256'
            ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
            : undefined),
        multiRegionPrimaryArn: multiRegion ? arn : undefined
      })
      return { ref: id, attributes: { Arn: arn, KeyId: id } }
    },
    delete(_state, account, resource) {
      const arn = resource.attributes['Arn']
      if (arn) account.kms.delete(arn)
    },
    snapshot(account, resource) {
      const arn = resource.attributes['Arn'] ?? ''
      const before = account.kms.get(arn)
      return () => {
        if (before) account.kms.set(arn, before)
      }
    }
  },

  'AWS::KMS::Alias': {
    deploy(context) {
      const { account, properties, region } = context
      const alias = text(properties, 'AliasName') ?? ''
      if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(alias) || alias.startsWith('alias/aws/')) {
        throw new DeploymentError(
          `Resource handler returned message: "Alias ${alias} must start with alias/ and may not start with alias/aws/"`
        )
      }
      const target = text(properties, 'TargetKeyId') ?? ''
      const key = [...account.kms.values()].find(
        k => k.region === region && (k.id === target || k.arn === target)
      )
      if (!key)
        throw new DeploymentError(
          `Resource handler returned message: "Key ${target} does not exist"`
        )
      const aliasArn = `arn:aws:kms:${region}:${account.id}:${alias}`
      if (account.kmsAliases.has(aliasArn) && context.previous?.ref !== alias) {
        throw new DeploymentError(
          `Resource handler returned message: "An alias with the name ${aliasArn} already exists"`
        )
      }
      account.kmsAliases.set(aliasArn, key.arn)
      return { ref: alias, attributes: {} }
    },
    delete(_state, account, resource) {
      for (const [aliasArn] of account.kmsAliases) {
        if (aliasArn.endsWith(`:${resource.ref}`)) account.kmsAliases.delete(aliasArn)
      }
    }
  }
}

/** Parsed templates by body: every world load deploys the same few templates again. */
const parsedTemplates = new Map<string, Template>()

/**
 * Parses and checks a template body; throws DeploymentError (ValidationError on AWS). The result
 * is shared between deployments, so it is never modified.
 */
export function readTemplate(body: string): Template {
  const known = parsedTemplates.get(body)
  if (known) return known
  try {
    const template = deepFreeze(parseCloudFormation(body))
    parsedTemplates.set(body, template)
    return template
  } catch (error) {
    throw new DeploymentError(
      `Template format error: ${error instanceof Error ? error.message : String(error)}`
    )
  }
}

/**
 * Creates or updates a stack's resources, in dependency order. A failure rolls back: what this
 * deployment created is removed and what it updated gets its old properties again. A resource
 * replaced under a new name is removed only once the whole deployment has succeeded.
 */
export function deployTemplate(state: EmulatorState, request: DeployRequest): Deployment {
  const template = readTemplate(request.templateBody)
  const specs = parameterSpecs(template)
  const given = Object.fromEntries(request.parameters)
  const problems = parameterProblems(specs, given)
  if (problems.length > 0) throw new DeploymentError(`Parameters: ${problems.join('; ')}`)
  const parameters = new Map<string, string>()
  for (const spec of specs.values())
    parameters.set(spec.name, given[spec.name] ?? spec.default ?? '')
  const scope = new Scope(
    template,
    {
      'AWS::AccountId': request.account.id,
      'AWS::Region': request.region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': request.stackName,
      'AWS::StackId': request.stackId
    },
    parameters
  )
  const declared = section(template, 'Resources')
  const deployed = new Map<string, DeployedResource>()
  const restores: (() => void)[] = []
  try {
    for (const logicalId of creationOrder(declared)) {
      const resource = declared[logicalId] ?? {}
      if (typeof resource['Condition'] === 'string' && !scope.condition(resource['Condition']))
        continue
      const type = String(resource['Type'])
      const handler = HANDLERS[type]
      if (!handler) {
        throw new DeploymentError(`Resource ${logicalId}: the emulator cannot deploy ${type}`)
      }
      const properties = scope.resolve(resource['Properties'] ?? {}) as Record<string, unknown>
      const earlier = request.previous?.get(logicalId)
      if (earlier && handler.snapshot) restores.push(handler.snapshot(request.account, earlier))
      const result = handler.deploy({
        state,
        account: request.account,
        region: request.region,
        stackName: request.stackName,
        managedBy: request.managedBy,
        logicalId,
        properties,
        previous: request.previous?.get(logicalId),
        now: request.now
      })
      scope.refs.set(logicalId, result.ref)
      scope.attributes.set(logicalId, result.attributes)
      const entry = { logicalId, type, ...result, retain: resource['DeletionPolicy'] === 'Retain' }
      deployed.set(logicalId, {
        ...entry,
        fingerprint: handler.fingerprint?.(request.account, entry)
      })
    }
  } catch (error) {
    for (const [logicalId, created] of [...deployed].reverse()) {
      if (request.previous?.get(logicalId)?.ref !== created.ref) {
        HANDLERS[created.type]?.delete(state, request.account, created)
      }
    }
    for (const restore of restores.reverse()) restore()
    throw error
  }
  // Cleanup: resources gone from the template, and the old ones of replaced resources.
  for (const [logicalId, old] of request.previous ?? []) {
    if (deployed.get(logicalId)?.ref !== old.ref) deleteResource(state, request.account, old)
  }
  const outputs = new Map<string, string>()
  for (const [name, output] of Object.entries(section(template, 'Outputs'))) {
    if (typeof output['Condition'] === 'string' && !scope.condition(output['Condition'])) continue
    outputs.set(name, String(scope.resolve(output['Value'])))
  }
  return { resources: deployed, outputs }
}

function deleteResource(state: EmulatorState, account: Account, resource: DeployedResource): void {
  if (resource.retain) return
  HANDLERS[resource.type]?.delete(state, account, resource)
}

/** Deletes a stack's resources (those with DeletionPolicy Retain stay). */
export function deleteDeployment(
  state: EmulatorState,
  account: Account,
  resources: ReadonlyMap<string, DeployedResource>
): void {
  for (const resource of [...resources.values()].reverse()) deleteResource(state, account, resource)
}

export interface DriftResult {
  readonly status: 'IN_SYNC' | 'DRIFTED'
  readonly driftedResources: readonly string[]
}

/** The read permissions drift detection needs, per resource (checked as the caller). */
export function driftReads(
  resources: ReadonlyMap<string, DeployedResource>
): { action: string; resource: DeployedResource }[] {
  return [...resources.values()].flatMap(resource =>
    (HANDLERS[resource.type]?.driftReads ?? []).map(action => ({ action, resource }))
  )
}

/** Compares each tracked resource with what the stack deployed (DetectStackDrift). */
export function detectDrift(
  account: Account,
  resources: ReadonlyMap<string, DeployedResource>
): DriftResult {
  const driftedResources = [...resources.values()]
    .filter(resource => {
      const handler = HANDLERS[resource.type]
      if (!handler?.fingerprint || resource.fingerprint === undefined) return false
      return handler.fingerprint(account, resource) !== resource.fingerprint
    })
    .map(resource => resource.logicalId)
  return { status: driftedResources.length > 0 ? 'DRIFTED' : 'IN_SYNC', driftedResources }
}
