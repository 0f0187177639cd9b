import { Authorizer } from './authz/authorize.js'
import { Clock } from './clock.js'
import { FaultInjector, type CrashRule, type Faults } from './faults.js'
import { fakeSecretAccessKey } from './random.js'
import { RequestLog } from './request-log.js'
import { buildState } from './seed.js'
import { snapshotState, type StateSnapshot } from './snapshot.js'
import type { EmulatorState, SecretValueWrite, SentEmail } from './state.js'
import { parseWorld, type World } from './world.js'

export const DEFAULT_WORLD: World = {
  organizationId: 'o-emulator000',
  managementAccountId: '111111111111'
}

/**
 * The emulator without HTTP: world, live state, clock, faults and request log. The server
 * and the in-process Emulator API both drive this object.
 */
export class EmulatorCore {
  readonly clock = new Clock()
  readonly log: RequestLog
  private world: World
  private current: EmulatorState
  private injector: FaultInjector
  /** Every secret access key ever handed out (kept across reset and world loads). */
  private readonly issued: string[] = []
  /** IAM evaluation of every request; what the action used is kept across world loads. */
  readonly authorizer = new Authorizer()

  constructor(world: World = DEFAULT_WORLD, requestLogSize = 10_000) {
    parseWorld(world)
    this.log = new RequestLog(requestLogSize)
    this.world = world
    if (world.now !== undefined) this.clock.setNow(new Date(world.now))
    this.current = buildState(world, this.clock.now())
    this.injector = new FaultInjector(world.faults ?? {}, world.seed ?? 1)
  }

  get state(): EmulatorState {
    return this.current
  }

  get faults(): FaultInjector {
    return this.injector
  }

  /** Replaces the state with the world's; ages count back from the clock as it reads now. */
  loadWorld(world: World): void {
    // Typed callers are checked too: the checks cover what types cannot (repeated ids, dates).
    parseWorld(world)
    if (world.now !== undefined) this.clock.setNow(new Date(world.now))
    const state = buildState(world, this.clock.now())
    this.world = world
    this.current = state
    this.injector.dropCrashes('the world was reloaded')
    this.injector = new FaultInjector(world.faults ?? {}, world.seed ?? 1)
    this.log.clear()
  }

  /**
   * Back to the loaded world as it was at start: real-time clock, no requests, no mail, no
   * secret value writes.
   */
  reset(): void {
    this.clock.reset()
    this.loadWorld(this.world)
  }

  /** Replaces the faults; crash points set with crashAfter stay until they fire. */
  setFaults(faults: Faults): void {
    this.injector = new FaultInjector(faults, this.world.seed ?? 1, this.injector.pendingCrashes())
  }

  /** See Emulator.crashAfter. */
  crashAfter(rule: CrashRule): Promise<void> {
    return this.injector.crashAfter(rule)
  }

  issueSecretAccessKey(): string {
    const secret = fakeSecretAccessKey()
    this.issued.push(secret)
    return secret
  }

  issuedSecrets(): string[] {
    return [...this.issued]
  }

  emails(): SentEmail[] {
    return this.current.emails.map(email => ({ ...email }))
  }

  secretValueWrites(): SecretValueWrite[] {
    return this.current.secretValueWrites.map(write => ({ ...write }))
  }

  snapshot(accountId?: string): StateSnapshot {
    return snapshotState(this.current, this.clock.now(), accountId)
  }
}
