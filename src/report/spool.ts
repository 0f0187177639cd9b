import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import type { PlanAccount } from '../plan/types.js'

interface SpoolEntry {
  readonly accountId: string
  readonly offset: number
  readonly length: number
}

/**
 * The plan's accounts on disk, one JSON line each, written as each account is finished so the
 * run holds no more than the accounts still in progress. Iterating reads them back one at a time,
 * in the order given (the inventory's, or account id order), as often as a report needs.
 *
 * Sync file I/O on purpose: the reports are pure functions over an `Iterable<PlanAccount>`, and a
 * line is read only when the report asks for it.
 */
export class AccountSpool implements Iterable<PlanAccount> {
  private readonly fd: number
  private readonly entries: SpoolEntry[] = []
  private readonly ids = new Set<string>()
  private readonly rank: ReadonlyMap<string, number> | undefined
  private size = 0

  /**
   * @param path the spool file (created, or emptied)
   * @param order account ids in report order; accounts not in it follow, in id order. Without
   *   it, accounts come in id order.
   */
  constructor(
    private readonly path: string,
    order?: readonly string[]
  ) {
    this.fd = openSync(path, 'w+', 0o600)
    this.rank = order ? new Map(order.map((id, index) => [id, index])) : undefined
  }

  get count(): number {
    return this.entries.length
  }

  add(account: PlanAccount): void {
    const line = Buffer.from(`${JSON.stringify(account)}\n`)
    writeSync(this.fd, line, 0, line.length, this.size)
    this.entries.push({ accountId: account.accountId, offset: this.size, length: line.length })
    this.ids.add(account.accountId)
    this.size += line.length
  }

  has(accountId: string): boolean {
    return this.ids.has(accountId)
  }

  *[Symbol.iterator](): Iterator<PlanAccount> {
    const rank = (id: string) => this.rank?.get(id) ?? Number.MAX_SAFE_INTEGER
    const ordered = [...this.entries].sort(
      (a, b) => rank(a.accountId) - rank(b.accountId) || a.accountId.localeCompare(b.accountId)
    )
    for (const entry of ordered) {
      const buffer = Buffer.alloc(entry.length)
      readSync(this.fd, buffer, 0, entry.length, entry.offset)
      yield JSON.parse(buffer.toString('utf8')) as PlanAccount
    }
  }

  /** Closes and deletes the file. */
  remove(): void {
    closeSync(this.fd)
    rmSync(this.path, { force: true })
  }
}
