import { decodeToken, encodeToken, pageOf, pageSize, type Page } from '../paging.js'
import { ServiceError } from '../protocol/errors.js'
import type { RequestParams, ResponseObject, ResponseValue } from '../protocol/values.js'
import {
  callerAccount,
  operations,
  type JsonServiceDefinition,
  type RequestContext
} from '../service.js'
import type { Account, OrganizationalUnit } from '../state.js'

/** AWS Organizations (JSON 1.1). Only the management account may read the organization. */

/** Organizations caps MaxResults at 20 for these operations. */
const MAX_RESULTS = 20

const invalidInput = (message: string): ServiceError =>
  new ServiceError('InvalidInputException', message)

function requireManagementAccount(ctx: RequestContext): void {
  if (callerAccount(ctx).id !== ctx.state.organization.managementAccountId) {
    throw new ServiceError(
      'AccessDeniedException',
      "You don't have permissions to access this resource."
    )
  }
}

function page<T>(
  ctx: RequestContext,
  params: RequestParams,
  items: readonly T[],
  mayServeEmptyPage = false
): Page<T> {
  const token = decodeToken(params.string('NextToken'), () =>
    invalidInput('You specified an invalid value for nextToken.')
  )
  const offset = token?.offset ?? 0
  // Real Organizations sometimes answers with no items but a NextToken; callers must go on.
  if (mayServeEmptyPage && ctx.faults.emptyPageWithToken && !token?.emptyServed) {
    if (offset < items.length) {
      return { items: [], next: encodeToken({ offset, emptyServed: true }) }
    }
  }
  const size = pageSize(
    params.integer('MaxResults'),
    MAX_RESULTS,
    Math.min(MAX_RESULTS, ctx.state.config.pageSizes.organizations ?? MAX_RESULTS)
  )
  return pageOf(items, offset, size)
}

function accountView(account: Account): ResponseObject {
  return {
    Id: account.id,
    Arn: account.arn,
    Email: account.email,
    Name: account.name,
    Status: account.status,
    State: account.status,
    JoinedMethod: 'CREATED',
    JoinedTimestamp: account.joinedTimestamp
  }
}

function ouView(ou: OrganizationalUnit): ResponseObject {
  return { Id: ou.id, Arn: ou.arn, Name: ou.name }
}

function parentId(ctx: RequestContext, params: RequestParams): string {
  const id = params.requiredString('ParentId')
  if (!ctx.state.isParent(id)) {
    throw new ServiceError(
      'ParentNotFoundException',
      "We can't find a root or OU with the ParentId that you specified."
    )
  }
  return id
}

function accounts(ctx: RequestContext, ids: readonly string[]): Account[] {
  return ids.flatMap(id => ctx.state.accounts.get(id) ?? [])
}

/** Any account of the organization may describe it; only the management account lists it. */
function describeOrganization(ctx: RequestContext): ResponseValue {
  callerAccount(ctx)
  const { organization, accounts: all } = ctx.state
  const management = all.get(organization.managementAccountId)
  return {
    Organization: {
      Id: organization.id,
      Arn: organization.arn,
      FeatureSet: 'ALL',
      MasterAccountArn: management?.arn,
      MasterAccountId: organization.managementAccountId,
      MasterAccountEmail: management?.email,
      AvailablePolicyTypes: []
    }
  }
}

function listAccounts(ctx: RequestContext, params: RequestParams): ResponseValue {
  requireManagementAccount(ctx)
  const { items, next } = page(ctx, params, ctx.state.accountIds, true)
  return { Accounts: accounts(ctx, items).map(accountView), NextToken: next }
}

function describeAccount(ctx: RequestContext, params: RequestParams): ResponseValue {
  requireManagementAccount(ctx)
  const account = ctx.state.accounts.get(params.requiredString('AccountId'))
  if (!account) {
    throw new ServiceError(
      'AccountNotFoundException',
      "You specified an account that doesn't exist."
    )
  }
  return { Account: accountView(account) }
}

function listRoots(ctx: RequestContext, params: RequestParams): ResponseValue {
  requireManagementAccount(ctx)
  const { rootId, rootArn } = ctx.state.organization
  const { items, next } = page(ctx, params, [
    { Id: rootId, Arn: rootArn, Name: 'Root', PolicyTypes: [] }
  ])
  return { Roots: items, NextToken: next }
}

function listChildren(ctx: RequestContext, params: RequestParams): ResponseValue {
  requireManagementAccount(ctx)
  const parent = parentId(ctx, params)
  const childType = params.requiredString('ChildType')
  const children = ctx.state.childrenOf(parent)
  let ids: string[]
  if (childType === 'ACCOUNT') ids = children.accounts
  else if (childType === 'ORGANIZATIONAL_UNIT') ids = children.organizationalUnits
  else throw invalidInput(`You specified an invalid value for childType: ${childType}.`)
  const { items, next } = page(ctx, params, ids)
  return { Children: items.map(Id => ({ Id, Type: childType })), NextToken: next }
}

function listAccountsForParent(ctx: RequestContext, params: RequestParams): ResponseValue {
  requireManagementAccount(ctx)
  const ids = ctx.state.childrenOf(parentId(ctx, params)).accounts
  const { items, next } = page(ctx, params, ids, true)
  return { Accounts: accounts(ctx, items).map(accountView), NextToken: next }
}

function listOrganizationalUnitsForParent(
  ctx: RequestContext,
  params: RequestParams
): ResponseValue {
  requireManagementAccount(ctx)
  const ids = ctx.state.childrenOf(parentId(ctx, params)).organizationalUnits
  const { items, next } = page(ctx, params, ids)
  const units = items.flatMap(id => ctx.state.organizationalUnits.get(id) ?? [])
  return { OrganizationalUnits: units.map(ouView), NextToken: next }
}

function describeOrganizationalUnit(ctx: RequestContext, params: RequestParams): ResponseValue {
  requireManagementAccount(ctx)
  const ou = ctx.state.organizationalUnits.get(params.requiredString('OrganizationalUnitId'))
  if (!ou) {
    throw new ServiceError(
      'OrganizationalUnitNotFoundException',
      "We can't find an OU with the OrganizationalUnitId that you specified."
    )
  }
  return { OrganizationalUnit: ouView(ou) }
}

function listParents(ctx: RequestContext, params: RequestParams): ResponseValue {
  requireManagementAccount(ctx)
  const childId = params.requiredString('ChildId')
  const { state } = ctx
  const parent =
    state.accounts.get(childId)?.parentId ?? state.organizationalUnits.get(childId)?.parentId
  if (parent === undefined) {
    throw new ServiceError(
      'ChildNotFoundException',
      "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."
    )
  }
  const type = parent === state.organization.rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT'
  return { Parents: [{ Id: parent, Type: type }] }
}

export const organizationsService: JsonServiceDefinition = {
  name: 'organizations',
  protocol: 'json',
  targetPrefix: 'AWSOrganizationsV20161128',
  missingParameter: name =>
    invalidInput(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`
    ),
  faultErrors: {
    throttling: () => new ServiceError('TooManyRequestsException', 'Rate exceeded'),
    internalErrorCode: 'ServiceException'
  },
  operations: operations({
    DescribeOrganization: describeOrganization,
    ListAccounts: listAccounts,
    DescribeAccount: describeAccount,
    ListRoots: listRoots,
    ListChildren: listChildren,
    ListAccountsForParent: listAccountsForParent,
    ListOrganizationalUnitsForParent: listOrganizationalUnitsForParent,
    DescribeOrganizationalUnit: describeOrganizationalUnit,
    ListParents: listParents
  })
}
