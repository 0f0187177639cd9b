/** An AWS error as the wire carries it: a code the SDK maps to an exception class, and a status. */
export class ServiceError extends Error {
  readonly code: string
  readonly status: number

  constructor(code: string, message: string, status: number = statusForCode(code)) {
    super(message)
    this.name = 'ServiceError'
    this.code = code
    this.status = status
  }

  /** Query protocol `<Type>`: Receiver for server faults, Sender for the caller's. */
  get faultType(): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender'
  }
}

/**
 * HTTP statuses AWS pairs with the codes used here (from the services' models), so a fault
 * naming only a code still gets the status the SDK expects.
 */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  // IAM
  NoSuchEntity: 404,
  LimitExceeded: 409,
  EntityAlreadyExists: 409,
  DeleteConflict: 409,
  ConcurrentModification: 409,
  ReportInProgress: 404,
  ReportNotPresent: 410,
  ReportExpired: 410,
  ServiceFailure: 500,
  // shared query errors
  AccessDenied: 403,
  InvalidClientTokenId: 403,
  SignatureDoesNotMatch: 403,
  MissingAuthenticationToken: 403,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  // CloudFormation
  StackSetNotFoundException: 404,
  OperationNotFoundException: 404,
  StackInstanceNotFoundException: 404,
  NameAlreadyExistsException: 409,
  OperationInProgressException: 409,
  // Organizations
  AccessDeniedException: 403,
  AccountNotFoundException: 404,
  ParentNotFoundException: 404,
  ChildNotFoundException: 404,
  AWSOrganizationsNotInUseException: 404,
  TooManyRequestsException: 429,
  ServiceException: 500,
  // Secrets Manager
  InternalServiceError: 500,
  // KMS
  KMSInternalException: 500
}

export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 400
}
