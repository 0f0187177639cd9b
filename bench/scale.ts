/**
 * Scale benchmark of the action itself: dist/index.js in audit mode against a generated
 * organization in the local emulator, with a fixed latency per AWS call.
 *
 *   node --import tsx bench/scale.ts [--accounts 300] [--users 60] [--latency 15]
 *        [--profile spread|steady|quiet] [--concurrency 8] [--timeout SECONDS] [--json FILE]
 *        [--heap-snapshot-at ACCOUNTS_DONE [--heap-snapshot FILE]]
 *   node --import tsx bench/scale.ts --suite [--only KEY,…] [--markdown] [--out DIR]
 *   node --import tsx bench/scale.ts --shards N [--accounts …] [--users …] [--latency …]
 *
 * `--shards N` runs the organization as a sharded workflow does: N shard jobs (`shard: K/N`,
 * one after the other, each its own process) against one emulator, then the merge job
 * (`merge-from`) on their reports, and prints each job's wall time and peak memory.
 *
 * The organization has N accounts in all: the management account (which is also the central
 * account the ambient credentials act in) and N − 1 members, each with M IAM users and the
 * member role. Profiles:
 *
 * - `spread`: one key per user, used yesterday, ages spread evenly over 0–110 days and no
 *   lifecycle tags: the first audit run in an organization.
 * - `steady`: the organization after the tool has run daily (enforce) for a while, as today's
 *   run finds it. Each user is at another day of the 90-day cycle: for the first 10 days after a
 *   rotation the old key is still active beside its replacement, for the next 10 it is inactive,
 *   then only the replacement is left. Every key carries the tool's lifecycle tag, exactly as
 *   src/apply writes them, so the scan can name keys without listing them.
 * - `quiet`: like `spread` but with ages 0–75 days, so nobody is due anything: the control for
 *   memory (what the action holds per account when it has nothing to report).
 *
 * Prints wall time, the action's peak memory (VmHWM of its process), the emulator process's
 * peak memory, API calls in total, by operation for the central role, and per member account
 * by operation, the lower bound the concurrency allows (accounts ÷ max-concurrency × serial
 * calls per account × latency) and the ratio of wall time to it. `--suite` runs the sizes of
 * issues 4, 7 and 14, each in its own process (so every peak is that run's own), then a table (`--out DIR` keeps each run's JSON there).
 * `--heap-snapshot-at N` has the action write a V8 heap snapshot once N accounts are scanned.
 * Every run stops by itself: the action is killed after `--timeout` (default: three times a
 * generous estimate), and the suite kills a scenario that outlives that.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { Plan } from '../src/plan/types.js'
import { encodeKeyRecord, lifecycleTagKey } from '../src/scan/lifecycle-tags.js'
import {
  startEmulator,
  type RequestLogEntry,
  type World,
  type WorldAccount,
  type WorldUser
} from '../test/emulator/index.js'
import { IdFactory } from '../test/emulator/random.js'
import { AMBIENT_CREDENTIALS } from '../test/support/emulated-action.js'
import { runAction } from '../test/support/run-action.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = dirname(HERE)
const PROBE = join(HERE, 'memory-probe.mjs')

const DAY_MS = 86_400_000
const ORGANIZATION_ID = 'o-benchscale0'
const FIRST_ACCOUNT = 100_000_000_000
const MANAGEMENT_ACCOUNT = String(FIRST_ACCOUNT)
/** The action.yml defaults: R, Gi, Gr (and W = 7, which the world needs not know). */
const ROTATION_DAYS = 90
const INSTALL_GRACE_DAYS = 10
const RECOVERY_GRACE_DAYS = 10
/** Spread profile: key ages 0…110 days. */
const SPREAD_MAX_AGE_DAYS = 110
/** Steady profile: owners switch to the new key this many days after a rotation. */
const INSTALL_AFTER_DAYS = 2
/** Timeout allowance per account for the credential report (generated while the scan reads). */
const REPORT_ALLOWANCE_S = 0.5

type Profile = 'spread' | 'steady' | 'quiet'
const PROFILES: readonly Profile[] = ['spread', 'steady', 'quiet']
const isProfile = (value: string): value is Profile => (PROFILES as string[]).includes(value)
/** Quiet profile: key ages 0…75 days, below any warning (R − W = 83): nothing to report. */
const QUIET_MAX_AGE_DAYS = 75

interface Scenario {
  readonly accounts: number
  readonly users: number
  readonly latencyMs: number
  readonly profile: Profile
  readonly concurrency: number
  readonly timeoutS?: number
  /** Ask the action for a heap snapshot (written to `heapSnapshotFile`) after this many accounts. */
  readonly heapSnapshotAt?: number
  readonly heapSnapshotFile?: string
}

interface SuiteEntry extends Omit<Scenario, 'latencyMs' | 'concurrency'> {
  readonly key: string
  readonly issue: string
}

const SUITE: readonly SuiteEntry[] = [
  { key: 'i4-300x60-spread', issue: '4', accounts: 300, users: 60, profile: 'spread' },
  { key: 'i4-300x60-steady', issue: '4', accounts: 300, users: 60, profile: 'steady' },
  { key: 'i4-20x120-spread', issue: '4', accounts: 20, users: 120, profile: 'spread' },
  { key: 'i4-20x120-steady', issue: '4', accounts: 20, users: 120, profile: 'steady' },
  { key: 'i7-100x50', issue: '7', accounts: 100, users: 50, profile: 'spread' },
  { key: 'i7-1000x50', issue: '7', accounts: 1000, users: 50, profile: 'spread' },
  { key: 'i7-5000x50', issue: '7', accounts: 5000, users: 50, profile: 'spread' },
  // Control for memory: as many accounts, nothing to report.
  { key: 'ctl-5000x50-quiet', issue: '7', accounts: 5000, users: 50, profile: 'quiet' },
  // Issue 14: memory flat with the organization (reports streamed from the account spool).
  { key: 'i14-1000x50', issue: '14', accounts: 1000, users: 50, profile: 'spread' },
  { key: 'i14-5000x50', issue: '14', accounts: 5000, users: 50, profile: 'spread' },
  { key: 'i14-10000x50', issue: '14', accounts: 10000, users: 50, profile: 'spread' }
]

// ---------------------------------------------------------------------------------------------
// The world

const pad = (value: number, width: number): string => String(value).padStart(width, '0')

/**
 * Key ids from the emulator's own generator, named per account, user and key generation: the
 * world must name them to tag them, and they stay emulator ids, never hand-made key shapes.
 */
const emulatorIds = new IdFactory(1)
const keyId = (account: number, user: number, generation: number): string =>
  emulatorIds.accessKeyId(`bench/${pad(account, 7)}/${pad(user, 6)}/${generation}`)

const daysBefore = (now: Date, days: number): Date => new Date(now.getTime() - days * DAY_MS)

function spreadUser(user: number, users: number, maxAgeDays: number): WorldUser {
  const ageDays = Math.floor((user * (maxAgeDays + 1)) / users)
  return {
    name: `user-${user}`,
    tags: { owner: `user-${user}@example.com` },
    keys: [{ ageDays, lastUsedDaysAgo: Math.min(1, ageDays) }]
  }
}

/**
 * A user `phase` days (1…90) after the tool last rotated its key, as today's run finds it: the
 * tool runs daily at the same time, so every key it made is a whole number of days old.
 */
function steadyUser(account: number, user: number, users: number, now: Date): WorldUser {
  const phase = 1 + Math.floor((user * ROTATION_DAYS) / users)
  const oldId = keyId(account, user, 0)
  const newId = keyId(account, user, 1)
  const rotatedAt = daysBefore(now, phase)
  const tags: Record<string, string> = {
    owner: `user-${user}@example.com`,
    [lifecycleTagKey(newId)]: encodeKeyRecord({ createdAt: rotatedAt })
  }
  const newKey = {
    id: newId,
    ageDays: phase,
    lastUsedDaysAgo: phase >= INSTALL_AFTER_DAYS ? 1 : null
  }
  const oldIsActive = phase <= INSTALL_GRACE_DAYS
  if (!oldIsActive && phase > INSTALL_GRACE_DAYS + RECOVERY_GRACE_DAYS) {
    return { name: `user-${user}`, tags, keys: [newKey] }
  }
  const oldAgeDays = phase + ROTATION_DAYS
  tags[lifecycleTagKey(oldId)] = encodeKeyRecord({
    createdAt: daysBefore(now, oldAgeDays),
    rotatedAt,
    replacementKeyId: newId,
    ...(oldIsActive ? {} : { deactivatedAt: daysBefore(now, phase - INSTALL_GRACE_DAYS) })
  })
  const oldKey = {
    id: oldId,
    status: oldIsActive ? ('Active' as const) : ('Inactive' as const),
    ageDays: oldAgeDays,
    lastUsedDaysAgo: Math.max(0, phase - INSTALL_AFTER_DAYS)
  }
  return { name: `user-${user}`, tags, keys: [oldKey, newKey] }
}

function buildWorld(scenario: Scenario): World {
  // The real time, to the whole second: key creation dates (now − whole days) are then whole
  // seconds, as the credential report and the lifecycle tags write them. Not a fixed date: the
  // action renews a role session when the local clock passes its Expiration, which the emulator
  // sets from its own clock, so an emulator clock behind real time would mean an AssumeRole
  // before every call.
  const now = new Date(Math.floor(Date.now() / 1000) * 1000)
  const accounts: WorldAccount[] = Array.from({ length: scenario.accounts }, (_, a) => ({
    id: String(FIRST_ACCOUNT + a),
    name: a === 0 ? 'management' : `member-${a}`,
    memberRole: true,
    users: Array.from({ length: scenario.users }, (_, u) => {
      switch (scenario.profile) {
        case 'spread':
          return spreadUser(u, scenario.users, SPREAD_MAX_AGE_DAYS)
        case 'quiet':
          return spreadUser(u, scenario.users, QUIET_MAX_AGE_DAYS)
        case 'steady':
          return steadyUser(a, u, scenario.users, now)
      }
    })
  }))
  return {
    description: `bench/scale.ts: ${scenario.accounts} accounts × ${scenario.users} users, ${scenario.profile}`,
    organizationId: ORGANIZATION_ID,
    managementAccountId: MANAGEMENT_ACCOUNT,
    now: now.toISOString(),
    accounts,
    faults: { latencyMs: scenario.latencyMs }
  }
}

// ---------------------------------------------------------------------------------------------
// One run

interface ProbeReport {
  vmHwmKb?: number
  maxRssKb: number
  userCpuUs: number
  systemCpuUs: number
  peakHeapUsed: number
  samples: [number, number, number][]
}

interface Result {
  scenario: Scenario
  dist: string
  exitCode: number
  timedOut: boolean
  errors: string[]
  worldBuildS: number
  wallS: number
  /** 1-minute load average of the machine when the run started and ended (others' work too). */
  loadAverage: [number, number]
  /** From the start of the run to the first and the last account line of the scan. */
  firstAccountS?: number
  lastAccountS?: number
  actionPeakRssMb?: number
  actionPeakHeapMb?: number
  actionCpuS?: number
  /** CPU of this process (the emulator) during the run. */
  emulatorCpuS: number
  /** RSS of the action at about 25 %, 50 %, 75 % and 100 % of its run, MB. */
  actionRssTimelineMb: number[]
  /** RSS and V8 heap in use at the last sample before the scan ended (all results held), MB. */
  actionRssAtScanEndMb?: number
  actionHeapAtScanEndMb?: number
  /** The probe's samples: [ms since the action started, RSS bytes, heap used bytes]. */
  actionSamples: [number, number, number][]
  /** Size of the step summary the action wrote. */
  summaryKb: number
  emulatorRssAfterLoadMb: number
  emulatorPeakRssMb: number
  totalCalls: number
  actionCountedCalls?: number
  throttledRetries?: number
  centralCalls: Record<string, number>
  memberAccounts: number
  /** Average per member account by operation, its AssumeRole included. */
  perAccount: Record<string, number>
  perAccountTotal: { min: number; avg: number; max: number }
  requestLogComplete: boolean
  accountSeconds?: { avg: number; p50: number; max: number }
  plan?: {
    accountsOk: number
    accountsFailed: number
    usersScanned: number
    keysScanned: number
    rotate: number
    deactivate: number
    delete: number
    warn: number
    blocked: number
    planJsonMb: number
  }
  boundS: number
  ratio: number
}

const cpuSeconds = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1e6
const mb = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10

function distIdentity(): string {
  const hash = createHash('sha256')
    .update(readFileSync(join(REPO_ROOT, 'dist/index.js')))
    .digest('hex')
    .slice(0, 12)
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim()
    const head = git('rev-parse', '--short', 'HEAD')
    const dirty = git('status', '--porcelain', '--', 'dist').length > 0 ? ', dist modified' : ''
    return `dist/index.js sha256 ${hash} (git ${head}${dirty})`
  } catch {
    return `dist/index.js sha256 ${hash}`
  }
}

/** Generous: every account's calls one after the other per slot, plus the report wait. */
function defaultTimeoutS(scenario: Scenario): number {
  const perAccountS = REPORT_ALLOWANCE_S + (8 + 2 * scenario.users) * (scenario.latencyMs / 1000)
  const estimate = (scenario.accounts / scenario.concurrency) * perAccountS
  return Math.max(300, Math.ceil(3 * estimate))
}

/** SIGUSR2 to the action: its memory probe writes a heap snapshot. */
function requestHeapSnapshot(pidFile: string): void {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGUSR2')
    console.log('  (heap snapshot requested)')
  } catch (error) {
    console.log(`  (heap snapshot not requested: ${String(error)})`)
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

async function runScenario(scenario: Scenario): Promise<Result> {
  const dist = distIdentity()
  const timeoutS = scenario.timeoutS ?? defaultTimeoutS(scenario)
  console.log(
    `scale: ${scenario.accounts} accounts × ${scenario.users} users, ${scenario.profile}, ` +
      `${scenario.latencyMs} ms per call, max-concurrency ${scenario.concurrency} (stops after ${timeoutS} s)`
  )
  console.log(`  ${dist}`)

  const buildStarted = performance.now()
  const world = buildWorld(scenario)
  const expectedRequests = scenario.accounts * (2 * scenario.users + 16) + 10_000
  const emulator = await startEmulator({ world, requestLogSize: expectedRequests })
  const worldBuildS = (performance.now() - buildStarted) / 1000
  const emulatorRssAfterLoadMb = mb(process.memoryUsage().rss)
  console.log(
    `  world built in ${worldBuildS.toFixed(1)} s; emulator process RSS ${emulatorRssAfterLoadMb} MB`
  )

  const probeDir = mkdtempSync(join(tmpdir(), 'key-rotation-bench-'))
  const probeFile = join(probeDir, 'memory.json')
  const accountSeconds: number[] = []
  const warnings: string[] = []
  let firstAccountS: number | undefined
  let lastAccountS: number | undefined
  const progressEvery = Math.max(1, Math.floor(scenario.accounts / 10))
  const loadAtStart = loadavg()[0] ?? 0
  // The emulator runs in this process: its CPU during the run is this process's.
  const cpuAtStart = process.cpuUsage()
  const started = performance.now()
  const elapsedS = (): number => (performance.now() - started) / 1000

  let result: Result
  try {
    const run = await runAction({
      inputs: {
        mode: 'audit',
        'organization-id': ORGANIZATION_ID,
        'management-account-id': MANAGEMENT_ACCOUNT,
        'max-concurrency': String(scenario.concurrency),
        notify: 'false',
        'open-issues': 'false',
        'deploy-stacks': 'off'
      },
      env: {
        ...AMBIENT_CREDENTIALS,
        AWS_ENDPOINT_URL: emulator.url,
        NODE_OPTIONS: `${process.env.BENCH_NODE_OPTIONS ?? ''} --import "${pathToFileURL(PROBE).href}"`,
        BENCH_MEMORY_FILE: probeFile,
        ...(scenario.heapSnapshotFile
          ? { BENCH_HEAP_SNAPSHOT_FILE: scenario.heapSnapshotFile }
          : {})
      },
      timeoutMs: timeoutS * 1000,
      echo: line => {
        const progress = /^\[(\d+)\/(\d+)\] .*\((\d+(?:\.\d+)?) s\)$/.exec(line)
        if (progress) {
          const done = Number(progress[1])
          accountSeconds.push(Number(progress[3]))
          firstAccountS ??= elapsedS()
          lastAccountS = elapsedS()
          if (done === scenario.heapSnapshotAt) requestHeapSnapshot(`${probeFile}.pid`)
          if (done % progressEvery === 0 || done === scenario.accounts) {
            return `  … ${done}/${progress[2]} accounts scanned (${elapsedS().toFixed(1)} s)`
          }
          return undefined
        }
        if (/^::(warning|error)/.test(line)) {
          warnings.push(line)
          if (warnings.length <= 5) return `  ${line.slice(0, 300)}`
        }
        return undefined
      }
    })
    const wallS = elapsedS()
    const summaryKb = Math.round(Buffer.byteLength(run.summary) / 1024)

    let probe: ProbeReport | undefined
    try {
      probe = JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeReport
    } catch {
      probe = undefined
    }
    let plan: Plan | undefined
    let planJsonMb = 0
    const planPath = run.outputs['plan-path']
    if (planPath) {
      planJsonMb = mb(statSync(planPath).size)
      plan = JSON.parse(readFileSync(planPath, 'utf8')) as Plan
    }
    rmSync(run.workDir, { recursive: true, force: true })

    result = analyse({
      scenario,
      dist,
      run: {
        exitCode: run.exitCode,
        timedOut: run.exitCode === -1,
        wallS,
        loadAverage: [loadAtStart, loadavg()[0] ?? 0],
        emulatorCpuS: cpuSeconds(process.cpuUsage(cpuAtStart))
      },
      errors: warnings.filter(line => line.startsWith('::error')),
      summaryKb,
      worldBuildS,
      firstAccountS,
      lastAccountS,
      probe,
      plan,
      planJsonMb,
      emulatorRssAfterLoadMb,
      counts: emulator.requestCounts(),
      entries: emulator.requests(),
      accountSeconds
    })
  } finally {
    await emulator.close()
    rmSync(probeDir, { recursive: true, force: true })
  }
  return result
}

/** One job of a sharded run: its wall time, peak memory and exit code. */
interface JobFigures {
  readonly job: string
  readonly wallS: number
  readonly peakRssMb: number | undefined
  readonly exitCode: number
  readonly accounts?: number
}

/** The sharded workflow: N shard jobs in turn against one emulator, then the merge job. */
async function runSharded(scenario: Scenario, shards: number): Promise<void> {
  console.log(
    `sharded: ${scenario.accounts} accounts × ${scenario.users} users, ${scenario.profile}, ${shards} shards, ` +
      `${scenario.latencyMs} ms per call, max-concurrency ${scenario.concurrency}`
  )
  console.log(`  ${distIdentity()}`)
  const buildStarted = performance.now()
  const emulator = await startEmulator({ world: buildWorld(scenario), requestLogSize: 1000 })
  console.log(`  world built in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s`)
  const work = mkdtempSync(join(tmpdir(), 'key-rotation-bench-shards-'))
  const figures: JobFigures[] = []
  const job = async (name: string, inputs: Record<string, string>, env: Record<string, string>) => {
    const probeFile = join(work, `${name.replace(/\W+/g, '-')}.memory.json`)
    const started = performance.now()
    const run = await runAction({
      inputs: { 'max-concurrency': String(scenario.concurrency), ...inputs },
      env: {
        ...env,
        NODE_OPTIONS: `--import "${pathToFileURL(PROBE).href}"`,
        BENCH_MEMORY_FILE: probeFile
      },
      timeoutMs: (scenario.timeoutS ?? defaultTimeoutS(scenario)) * 1000
    })
    const wallS = (performance.now() - started) / 1000
    let peakRssMb: number | undefined
    try {
      const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeReport
      peakRssMb = mb((probe.vmHwmKb ?? probe.maxRssKb) * 1024)
    } catch {
      peakRssMb = undefined
    }
    const planPath = run.outputs['plan-path']
    const accounts = planPath
      ? (JSON.parse(readFileSync(planPath, 'utf8')) as Plan).totals.accounts
      : undefined
    figures.push({
      job: name,
      wallS,
      peakRssMb,
      exitCode: run.exitCode,
      ...(accounts !== undefined ? { accounts } : {})
    })
    console.log(
      `  ${name.padEnd(10)} ${fixed(wallS).padStart(7)} s, peak RSS ${fixed(peakRssMb)} MB, ${accounts ?? '?'} accounts, exit code ${run.exitCode}`
    )
    return run
  }
  try {
    const reports = join(work, 'shards')
    for (let k = 1; k <= shards; k++) {
      const run = await job(
        `shard ${k}/${shards}`,
        {
          mode: 'audit',
          'organization-id': ORGANIZATION_ID,
          'management-account-id': MANAGEMENT_ACCOUNT,
          shard: `${k}/${shards}`,
          notify: 'false',
          'open-issues': 'false',
          'deploy-stacks': 'off'
        },
        { ...AMBIENT_CREDENTIALS, AWS_ENDPOINT_URL: emulator.url }
      )
      if (run.exitCode !== 0) console.log(run.stdout.slice(-2000))
      const reportDir = run.outputs['report-dir']
      if (reportDir)
        cpSync(reportDir, join(reports, `key-rotation-report-${k}`), { recursive: true })
      rmSync(run.workDir, { recursive: true, force: true })
    }
    const merged = await job(
      'merge',
      { 'merge-from': reports, notify: 'false', 'open-issues': 'false' },
      {}
    )
    rmSync(merged.workDir, { recursive: true, force: true })
    const shardJobs = figures.filter(figure => figure.job !== 'merge')
    const total = shardJobs.reduce((sum, figure) => sum + figure.wallS, 0)
    console.log(
      `  shard jobs: ${fixed(total)} s one after the other, longest ${fixed(Math.max(...shardJobs.map(f => f.wallS)))} s (in parallel, the run takes the longest shard plus the merge)`
    )
    console.log(
      '\n| job | accounts | wall | peak RSS | exit |\n|---|---:|---:|---:|---:|\n' +
        figures
          .map(
            f =>
              `| ${f.job} | ${f.accounts === undefined ? '?' : int(f.accounts)} | ${fixed(f.wallS)} s | ${fixed(f.peakRssMb, 0)} MB | ${f.exitCode} |`
          )
          .join('\n')
    )
    if (figures.some(figure => figure.exitCode !== 0)) process.exitCode = 1
  } finally {
    await emulator.close()
    rmSync(work, { recursive: true, force: true })
  }
}

interface AnalysisInput {
  scenario: Scenario
  dist: string
  run: {
    exitCode: number
    timedOut: boolean
    wallS: number
    loadAverage: [number, number]
    emulatorCpuS: number
  }
  errors: string[]
  summaryKb: number
  worldBuildS: number
  firstAccountS: number | undefined
  lastAccountS: number | undefined
  probe: ProbeReport | undefined
  plan: Plan | undefined
  planJsonMb: number
  emulatorRssAfterLoadMb: number
  counts: ReturnType<Awaited<ReturnType<typeof startEmulator>>['requestCounts']>
  entries: RequestLogEntry[]
  accountSeconds: number[]
}

/** Services only the central role calls; everything else is an account's own scan. */
const CENTRAL_SERVICES = new Set(['sts', 'organizations'])

function analyse(input: AnalysisInput): Result {
  const { scenario, counts, entries, probe, plan } = input

  const centralCalls: Record<string, number> = {}
  for (const [operation, count] of Object.entries(counts.byOperation)) {
    if (CENTRAL_SERVICES.has(operation.split(':')[0] ?? '')) centralCalls[operation] = count
  }

  // An account's own calls (IAM, Secrets Manager) as its member-role session makes them.
  const byAccount = new Map<string, Map<string, number>>()
  for (const entry of entries) {
    if (entry.account === undefined || CENTRAL_SERVICES.has(entry.service)) continue
    let operations = byAccount.get(entry.account)
    if (!operations) {
      operations = new Map<string, number>()
      byAccount.set(entry.account, operations)
    }
    const operation = `${entry.service}:${entry.operation}`
    operations.set(operation, (operations.get(operation) ?? 0) + 1)
  }
  const accountIds = Array.from({ length: scenario.accounts }, (_, a) => String(FIRST_ACCOUNT + a))
  const members = accountIds.length > 1 ? accountIds.slice(1) : accountIds
  // AssumeRole is made by the central role (so counted in its account), once per account.
  const assumeRolePerAccount = (counts.byOperation['sts:AssumeRole'] ?? 0) / scenario.accounts
  const perAccountSums = new Map<string, number>()
  const totals: number[] = []
  for (const id of members) {
    let total = assumeRolePerAccount
    for (const [operation, count] of byAccount.get(id) ?? []) {
      perAccountSums.set(operation, (perAccountSums.get(operation) ?? 0) + count)
      total += count
    }
    totals.push(total)
  }
  const perAccount: Record<string, number> = {}
  for (const [operation, sum] of [...perAccountSums].sort((a, b) => b[1] - a[1])) {
    perAccount[operation] = sum / members.length
  }
  perAccount['sts:AssumeRole'] = assumeRolePerAccount
  const avg = totals.reduce((sum, value) => sum + value, 0) / Math.max(1, totals.length)

  const latencyS = scenario.latencyMs / 1000
  const boundS = (scenario.accounts / scenario.concurrency) * avg * latencyS
  const sortedSeconds = [...input.accountSeconds].sort((a, b) => a - b)
  const samples = probe?.samples ?? []
  const scanEnd =
    input.lastAccountS === undefined
      ? undefined
      : samples.filter(sample => sample[0] <= (input.lastAccountS ?? 0) * 1000).at(-1)
  const timeline = [0.25, 0.5, 0.75, 1]
    .map(fraction => samples[Math.max(0, Math.ceil(fraction * samples.length) - 1)])
    .filter(sample => sample !== undefined)
    .map(sample => mb(sample[1]))

  const countActions = (type: string): number =>
    plan?.accounts.reduce(
      (sum, account) =>
        sum +
        account.users.reduce(
          (userSum, user) => userSum + user.actions.filter(action => action.type === type).length,
          0
        ),
      0
    ) ?? 0

  return {
    scenario,
    dist: input.dist,
    exitCode: input.run.exitCode,
    timedOut: input.run.timedOut,
    errors: input.errors,
    worldBuildS: input.worldBuildS,
    wallS: input.run.wallS,
    loadAverage: input.run.loadAverage,
    ...(input.firstAccountS !== undefined ? { firstAccountS: input.firstAccountS } : {}),
    ...(input.lastAccountS !== undefined ? { lastAccountS: input.lastAccountS } : {}),
    ...(probe
      ? {
          actionPeakRssMb: mb((probe.vmHwmKb ?? probe.maxRssKb) * 1024),
          actionPeakHeapMb: mb(probe.peakHeapUsed),
          actionCpuS: (probe.userCpuUs + probe.systemCpuUs) / 1e6
        }
      : {}),
    actionRssTimelineMb: timeline,
    ...(scanEnd
      ? { actionRssAtScanEndMb: mb(scanEnd[1]), actionHeapAtScanEndMb: mb(scanEnd[2]) }
      : {}),
    actionSamples: samples,
    summaryKb: input.summaryKb,
    emulatorRssAfterLoadMb: input.emulatorRssAfterLoadMb,
    emulatorPeakRssMb: mb(process.resourceUsage().maxRSS * 1024),
    emulatorCpuS: input.run.emulatorCpuS,
    totalCalls: counts.total,
    ...(plan
      ? { actionCountedCalls: plan.totals.apiCalls, throttledRetries: plan.totals.throttledRetries }
      : {}),
    centralCalls,
    memberAccounts: members.length,
    perAccount,
    perAccountTotal: {
      min: Math.min(...totals),
      avg,
      max: Math.max(...totals)
    },
    requestLogComplete: entries.length === counts.total,
    ...(sortedSeconds.length > 0
      ? {
          accountSeconds: {
            avg: sortedSeconds.reduce((sum, value) => sum + value, 0) / sortedSeconds.length,
            p50: percentile(sortedSeconds, 50),
            max: sortedSeconds[sortedSeconds.length - 1] ?? 0
          }
        }
      : {}),
    ...(plan
      ? {
          plan: {
            accountsOk: plan.accounts.filter(account => account.status === 'ok').length,
            accountsFailed: plan.totals.failedAccounts,
            usersScanned: plan.totals.usersScanned,
            keysScanned: plan.totals.keysScanned,
            rotate: countActions('ROTATE'),
            deactivate: countActions('DEACTIVATE'),
            delete: countActions('DELETE'),
            warn: countActions('WARN'),
            blocked: countActions('BLOCKED'),
            planJsonMb: input.planJsonMb
          }
        }
      : {}),
    boundS,
    ratio: input.run.wallS / boundS
  }
}

// ---------------------------------------------------------------------------------------------
// Printing

const fixed = (value: number | undefined, digits = 1): string =>
  value === undefined ? 'n/a' : value.toFixed(digits)
const int = (value: number): string => Math.round(value).toLocaleString('en-US')

function printResult(result: Result): void {
  const { scenario } = result
  const status = result.timedOut
    ? 'TIMED OUT (killed)'
    : `exit code ${result.exitCode}${result.errors.length > 0 ? `, ${result.errors.length} errors` : ''}`
  const lines = [
    `  wall time      ${fixed(result.wallS)} s (${status}); scan from ${fixed(result.firstAccountS)} s to ${fixed(result.lastAccountS)} s; load average ${fixed(result.loadAverage[0], 2)} → ${fixed(result.loadAverage[1], 2)}`,
    `  action memory  peak RSS ${fixed(result.actionPeakRssMb)} MB (VmHWM), peak heap ${fixed(result.actionPeakHeapMb)} MB, ` +
      `RSS at 25/50/75/100 % of the run ${result.actionRssTimelineMb.join(' / ')} MB; ` +
      `at the end of the scan RSS ${fixed(result.actionRssAtScanEndMb)} MB, heap ${fixed(result.actionHeapAtScanEndMb)} MB; CPU ${fixed(result.actionCpuS)} s`,
    `  emulator       RSS ${fixed(result.emulatorRssAfterLoadMb)} MB after loading the world, peak ${fixed(result.emulatorPeakRssMb)} MB (whole bench process); CPU ${fixed(result.emulatorCpuS)} s during the run`,
    `  API calls      ${int(result.totalCalls)} in total (the action counted ${result.actionCountedCalls ?? 'n/a'}; throttled retries ${result.throttledRetries ?? 'n/a'})`,
    `  central role   ${Object.entries(result.centralCalls)
      .map(([operation, count]) => `${operation} ${int(count)}`)
      .join(', ')}`,
    `  per member account (${result.memberAccounts} accounts, AssumeRole included): ` +
      `min ${fixed(result.perAccountTotal.min)} · avg ${fixed(result.perAccountTotal.avg)} · max ${fixed(result.perAccountTotal.max)} calls` +
      (result.requestLogComplete ? '' : ' (request log incomplete: per-operation figures partial)'),
    ...Object.entries(result.perAccount).map(
      ([operation, count]) => `    ${operation.padEnd(36)} ${fixed(count, 2).padStart(8)}`
    ),
    `  account time   avg ${fixed(result.accountSeconds?.avg, 2)} s · p50 ${fixed(result.accountSeconds?.p50, 2)} s · max ${fixed(result.accountSeconds?.max, 2)} s (the action's own per-account lines)`
  ]
  if (result.plan) {
    const p = result.plan
    lines.push(
      `  plan           ${p.accountsOk} accounts ok, ${p.accountsFailed} failed; ${int(p.usersScanned)} users, ${int(p.keysScanned)} keys; ` +
        `${p.rotate} rotate, ${p.deactivate} deactivate, ${p.delete} delete, ${p.warn} warn, ${p.blocked} blocked; ` +
        `plan.json ${p.planJsonMb} MB, step summary ${result.summaryKb} KB`
    )
  }
  lines.push(
    `  lower bound    ${scenario.accounts} ÷ ${scenario.concurrency} × ${fixed(result.perAccountTotal.avg)} calls × ${scenario.latencyMs} ms = ${fixed(result.boundS)} s; wall/bound ${fixed(result.ratio, 2)}`
  )
  console.log(lines.join('\n'))
}

function shortOperation(operation: string): string {
  const names: Record<string, string> = {
    'iam:GetAccountAuthorizationDetails': 'GAAD',
    'iam:GenerateCredentialReport': 'GenCR',
    'iam:GetCredentialReport': 'GetCR',
    'iam:ListAccessKeys': 'LAK',
    'iam:GetAccessKeyLastUsed': 'GAKLU',
    'sts:AssumeRole': 'AR',
    'secretsmanager:DescribeSecret': 'DescSecret'
  }
  return names[operation] ?? operation
}

/** Three Markdown tables (time, memory, calls) for docs/benchmarks.md. */
function markdownRows(results: readonly { key: string; result: Result }[]): string {
  const table = (head: string[], rows: string[][], textColumns = 2): string =>
    [
      `| ${head.join(' | ')} |`,
      `|${head.map((_, i) => (i < textColumns ? '---' : '---:')).join('|')}|`,
      ...rows.map(row => `| ${row.join(' | ')} |`)
    ].join('\n')
  const size = (r: Result): string =>
    `${int(r.scenario.accounts)} × ${r.scenario.users} ${r.scenario.profile}`
  const time = table(
    [
      'run',
      'organization',
      'wall',
      'scan bound',
      'wall/bound',
      's per account (avg)',
      'action CPU',
      'emulator CPU'
    ],
    results.map(({ key, result: r }) => [
      key,
      size(r),
      `${fixed(r.wallS)} s`,
      `${fixed(r.boundS)} s`,
      fixed(r.ratio, 2),
      `${fixed(r.accountSeconds?.avg, 2)} s`,
      `${fixed(r.actionCpuS, 0)} s`,
      `${fixed(r.emulatorCpuS, 0)} s`
    ])
  )
  const memory = table(
    [
      'run',
      'organization',
      'action peak RSS',
      'action RSS at scan end',
      'action heap at scan end',
      'action peak heap',
      'plan.json',
      'planned actions',
      'emulator peak RSS'
    ],
    results.map(({ key, result: r }) => [
      key,
      size(r),
      `${fixed(r.actionPeakRssMb, 0)} MB`,
      `${fixed(r.actionRssAtScanEndMb, 0)} MB`,
      `${fixed(r.actionHeapAtScanEndMb, 0)} MB`,
      `${fixed(r.actionPeakHeapMb, 0)} MB`,
      `${fixed(r.plan?.planJsonMb)} MB`,
      int(
        r.plan
          ? r.plan.rotate + r.plan.deactivate + r.plan.delete + r.plan.warn + r.plan.blocked
          : 0
      ),
      `${fixed(r.emulatorPeakRssMb, 0)} MB`
    ])
  )
  const calls = table(
    [
      'run',
      'organization',
      'calls total',
      'per member account',
      'by operation, average per member account'
    ],
    results.map(({ key, result: r }) => [
      key,
      size(r),
      int(r.totalCalls),
      `${fixed(r.perAccountTotal.avg)} (${fixed(r.perAccountTotal.min, 0)}–${fixed(r.perAccountTotal.max, 0)})`,
      Object.entries(r.perAccount)
        .map(([operation, count]) => `${shortOperation(operation)} ${fixed(count, 2)}`)
        .join(', ')
    ]),
    5
  )
  return [time, memory, calls].join('\n\n')
}

// ---------------------------------------------------------------------------------------------
// Suite: each scenario in its own process, so each peak memory is that run's own.

async function runSuite(
  scenarioArgs: string[],
  only: string[],
  markdown: boolean,
  outDir: string | undefined
): Promise<void> {
  const selected = SUITE.filter(entry => only.length === 0 || only.includes(entry.key))
  const results: { key: string; result: Result }[] = []
  const dir = outDir ?? mkdtempSync(join(tmpdir(), 'key-rotation-suite-'))
  mkdirSync(dir, { recursive: true })
  try {
    for (const entry of selected) {
      const jsonFile = join(dir, `${entry.key}.json`)
      const args = [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--accounts',
        String(entry.accounts),
        '--users',
        String(entry.users),
        '--profile',
        entry.profile,
        ...scenarioArgs,
        '--json',
        jsonFile
      ]
      console.log(`\n=== ${entry.key} (issue ${entry.issue}) ===`)
      const scenario: Scenario = {
        accounts: entry.accounts,
        users: entry.users,
        profile: entry.profile,
        ...scenarioFromArgs()
      }
      // The child stops the action itself; this is the backstop if the child hangs.
      const backstopMs = (scenario.timeoutS ?? defaultTimeoutS(scenario)) * 1000 + 300_000
      const code = await new Promise<number>(resolve => {
        const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' })
        const timer = setTimeout(() => child.kill('SIGKILL'), backstopMs)
        child.on('close', exitCode => {
          clearTimeout(timer)
          resolve(exitCode ?? -1)
        })
      })
      try {
        results.push({
          key: entry.key,
          result: JSON.parse(readFileSync(jsonFile, 'utf8')) as Result
        })
      } catch {
        console.log(`  ${entry.key}: no result (scenario process exited with ${code})`)
      }
    }
  } finally {
    if (!outDir) rmSync(dir, { recursive: true, force: true })
  }
  console.log('\n=== summary ===')
  console.log(markdown ? markdownRows(results) : summaryTable(results))
}

function summaryTable(results: readonly { key: string; result: Result }[]): string {
  const header = [
    'run',
    'wall s',
    'bound s',
    'ratio',
    'action MB',
    'emulator MB',
    'calls/acct',
    'total calls'
  ]
  const rows = results.map(({ key, result: r }) => [
    key,
    fixed(r.wallS),
    fixed(r.boundS),
    fixed(r.ratio, 2),
    fixed(r.actionPeakRssMb, 0),
    fixed(r.emulatorPeakRssMb, 0),
    fixed(r.perAccountTotal.avg),
    int(r.totalCalls)
  ])
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map(row => (row[i] ?? '').length))
  )
  return [header, ...rows]
    .map(row => row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  '))
    .join('\n')
}

// ---------------------------------------------------------------------------------------------
// Command line

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '300' },
    users: { type: 'string', default: '60' },
    latency: { type: 'string', default: '15' },
    profile: { type: 'string', default: 'spread' },
    concurrency: { type: 'string', default: '8' },
    timeout: { type: 'string' },
    'heap-snapshot-at': { type: 'string' },
    'heap-snapshot': { type: 'string' },
    json: { type: 'string' },
    suite: { type: 'boolean', default: false },
    only: { type: 'string' },
    markdown: { type: 'boolean', default: false },
    out: { type: 'string' },
    shards: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (values.help) {
  // The usage is this file's opening comment.
  const source = readFileSync(fileURLToPath(import.meta.url), 'utf8')
  const usage = /^\/\*\*\n([\s\S]*?)\n \*\//.exec(source)?.[1] ?? ''
  console.log(usage.replace(/^ \* ?/gm, ''))
  process.exit(0)
}

function wholeNumber(name: string, value: string | undefined, min: number): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < min) {
    throw new Error(`--${name} must be a whole number ≥ ${min}, not "${value}"`)
  }
  return number
}

/** The options every scenario of a suite shares. */
function scenarioFromArgs(): Pick<Scenario, 'latencyMs' | 'concurrency' | 'timeoutS'> {
  return {
    latencyMs: wholeNumber('latency', values.latency, 0),
    concurrency: wholeNumber('concurrency', values.concurrency, 1),
    ...(values.timeout !== undefined ? { timeoutS: wholeNumber('timeout', values.timeout, 1) } : {})
  }
}

async function main(): Promise<void> {
  if (values.suite) {
    const shared = [
      '--latency',
      String(values.latency),
      '--concurrency',
      String(values.concurrency)
    ]
    if (values.timeout !== undefined) shared.push('--timeout', values.timeout)
    const only = (values.only ?? '').split(',').filter(key => key !== '')
    const unknown = only.filter(key => !SUITE.some(entry => entry.key === key))
    if (unknown.length > 0) {
      throw new Error(
        `--only: unknown ${unknown.join(', ')}; known: ${SUITE.map(e => e.key).join(', ')}`
      )
    }
    await runSuite(shared, only, values.markdown, values.out && resolve(values.out))
    return
  }
  const profile = values.profile
  if (!isProfile(profile)) {
    throw new Error(`--profile must be one of ${PROFILES.join(', ')}, not "${profile}"`)
  }
  const scenario: Scenario = {
    accounts: wholeNumber('accounts', values.accounts, 1),
    users: wholeNumber('users', values.users, 1),
    profile,
    ...scenarioFromArgs(),
    ...(values['heap-snapshot-at'] !== undefined
      ? {
          heapSnapshotAt: wholeNumber('heap-snapshot-at', values['heap-snapshot-at'], 1),
          heapSnapshotFile: resolve(values['heap-snapshot'] ?? 'action.heapsnapshot')
        }
      : {})
  }
  if (values.shards !== undefined) {
    await runSharded(scenario, wholeNumber('shards', values.shards, 2))
    return
  }
  const result = await runScenario(scenario)
  printResult(result)
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2))
  if (result.timedOut || result.exitCode !== 0) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
