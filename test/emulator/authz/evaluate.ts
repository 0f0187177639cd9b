import {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateResourcePolicy,
  validateTrustPolicy,
  type ValidatedPolicy,
  type ValidationError
} from '@cloud-copilot/iam-policy'
import { runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate'

/**
 * AWS's policy evaluation logic, by @cloud-copilot/iam-simulate (AGPL-3.0-or-later: a test-only
 * devDependency; nothing under src/ imports it, so it never reaches dist/).
 *
 * The emulator builds the exact request context itself, so it uses the library's unchecked
 * entry point: the checked one drops context keys that the Service Authorization Reference
 * does not list for an action, and it lists no `token.actions.githubusercontent.com:sub` or
 * `:aud` for sts:AssumeRoleWithWebIdentity, which every GitHub trust policy tests. Documents
 * are validated once, when they are stored (see `policyProblems`).
 */

export type PolicyKind = 'identity' | 'resource' | 'trust'

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'

export interface NamedPolicy {
  readonly name: string
  /** The policy document as JSON text, as IAM stores it. */
  readonly document: string
  /**
   * Logical id of the template resource it came from (`CentralRole`, `StateSigningKey`), if a
   * stack created it: what the least-privilege test compares use with.
   */
  readonly origin?: string | undefined
}

export interface EvaluationRequest {
  /** The caller: a session, user, account root or federated provider ARN. */
  readonly principal: string
  readonly action: string
  readonly resource: string
  /** The account that owns the resource: decides same-account or cross-account logic. */
  readonly resourceAccount: string
  readonly context: Readonly<Record<string, string | string[]>>
  readonly identityPolicies: readonly NamedPolicy[]
  readonly permissionsBoundary?: NamedPolicy | undefined
  readonly resourcePolicy?: NamedPolicy | undefined
}

/** Why a request was denied, in the words AWS's error messages use. */
export type DenialReason =
  | { kind: 'explicit'; policyType: 'identity-based' | 'resource-based' | 'permissions boundary' }
  | { kind: 'implicit'; policyType: 'identity-based' | 'resource-based' | 'permissions boundary' }

const VALIDATORS: Record<PolicyKind, (policy: unknown) => ValidationError[]> = {
  identity: validateIdentityPolicy,
  resource: validateResourcePolicy,
  trust: validateTrustPolicy
}

/** What is wrong with a document of this kind, as IAM's MalformedPolicyDocument would say. */
export function policyProblems(document: string, kind: PolicyKind): string[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(document)
  } catch {
    return ['This policy contains invalid Json']
  }
  return VALIDATORS[kind](parsed).map(error => `${error.path}: ${error.message}`)
}

// Parsed documents by text: the same few dozen policies are evaluated on every request.
const parsedDocuments = new Map<string, unknown>()

function parsed(document: string): unknown {
  let value = parsedDocuments.get(document)
  if (value === undefined) {
    value = JSON.parse(document)
    parsedDocuments.set(document, value)
  }
  return value
}

function simulate(
  request: EvaluationRequest,
  parts: Partial<Record<'identity' | 'boundary' | 'resource', boolean>>
): Decision {
  const { resourcePolicy, permissionsBoundary } = request
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: { ...request.context }
    },
    identityPolicies:
      parts.identity === false
        ? []
        : request.identityPolicies.map(policy => ({
            name: policy.name,
            policy: parsed(policy.document)
          })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(parts.boundary !== false && permissionsBoundary
      ? {
          permissionBoundaryPolicies: [
            { name: permissionsBoundary.name, policy: parsed(permissionsBoundary.document) }
          ]
        }
      : {}),
    // A validated policy carries its name; a plain document here would have none, which the
    // library's unchecked entry point cannot report on.
    ...(parts.resource !== false && resourcePolicy ? { resourcePolicy: named(resourcePolicy) } : {})
  }
  return runUnsafeSimulation(simulation, {})
}

const validatedResourcePolicies = new Map<string, ValidatedPolicy<{ name: string }>>()

function named(policy: NamedPolicy): ValidatedPolicy<{ name: string }> {
  const key = `${policy.name}\n${policy.document}`
  let validated = validatedResourcePolicies.get(key)
  if (!validated) {
    validated = createValidatedPolicy(parsed(policy.document), () => [], { name: policy.name })
    validatedResourcePolicies.set(key, validated)
  }
  return validated
}

/** The decision AWS would reach for this request. */
export function evaluate(request: EvaluationRequest): Decision {
  return simulate(request, {})
}

/**
 * Which policy type decided a denial, for the error message: an explicit Deny anywhere first,
 * then the policy type that had no Allow.
 */
export function denialReason(request: EvaluationRequest, decision: Decision): DenialReason {
  const crossAccount = !request.principal.includes(`::${request.resourceAccount}:`)
  if (decision === 'ExplicitlyDenied') {
    if (simulate(request, { resource: false, boundary: false }) === 'ExplicitlyDenied') {
      return { kind: 'explicit', policyType: 'identity-based' }
    }
    if (simulate(request, { identity: false, boundary: false }) === 'ExplicitlyDenied') {
      return { kind: 'explicit', policyType: 'resource-based' }
    }
    return { kind: 'explicit', policyType: 'permissions boundary' }
  }
  if (request.action.toLowerCase().startsWith('kms:')) return kmsDenialReason(request)
  const identityAlone = simulate(request, { resource: false, boundary: false })
  if (identityAlone !== 'Allowed' && (crossAccount || !request.resourcePolicy)) {
    return { kind: 'implicit', policyType: 'identity-based' }
  }
  if (request.permissionsBoundary && simulate(request, { resource: false }) !== 'Allowed') {
    return { kind: 'implicit', policyType: 'permissions boundary' }
  }
  return {
    kind: 'implicit',
    policyType: identityAlone === 'Allowed' ? 'resource-based' : 'identity-based'
  }
}

const ALLOW_EVERYTHING: NamedPolicy = {
  name: 'allow-everything',
  document: JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }]
  })
}

/**
 * KMS always needs the key policy: it allows the principal, or the principal's account (whose
 * IAM policies then decide). No key policy grant is "no resource-based policy allows", whatever
 * the caller's policies say, as KMS words it.
 */
function kmsDenialReason(request: EvaluationRequest): DenialReason {
  const keyPolicyAllows =
    simulate({ ...request, identityPolicies: [ALLOW_EVERYTHING] }, { boundary: false }) ===
    'Allowed'
  if (!keyPolicyAllows) return { kind: 'implicit', policyType: 'resource-based' }
  if (request.permissionsBoundary && simulate(request, { boundary: false }) === 'Allowed') {
    return { kind: 'implicit', policyType: 'permissions boundary' }
  }
  return { kind: 'implicit', policyType: 'identity-based' }
}
