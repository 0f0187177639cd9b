import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs'

interface SpoolEntry {
  readonly accountId: string
  readonly offset: number
  readonly length: number
}

/**
 * keys.csv's rows on disk, as CSV text per account, written as each account is scanned, so the
 * run holds no more than the accounts in progress however many keys the organization has.
 * Iterating reads them back one account at a time, in report order (as `AccountSpool`: the
 * order given, then account id order), as often as a report needs.
 */
export class KeySpool implements Iterable<string> {
  private readonly fd: number
  private readonly entries: SpoolEntry[] = []
  private readonly accounts = new Set<string>()
  private readonly rank: ReadonlyMap<string, number> | undefined
  private size = 0

  /**
   * @param path the spool file (created, or emptied)
   * @param order account ids in report order; accounts not in it follow, in id order
   */
  constructor(
    private readonly path: string,
    order?: readonly string[]
  ) {
    this.fd = openSync(path, 'w+', 0o600)
    this.rank = order ? new Map(order.map((id, index) => [id, index])) : undefined
  }

  /** Rows of one account (CSV text, no header); an account's rows keep the order they came in. */
  add(accountId: string, csv: string): void {
    if (csv === '') return
    const bytes = Buffer.from(csv)
    writeSync(this.fd, bytes, 0, bytes.length, this.size)
    this.entries.push({ accountId, offset: this.size, length: bytes.length })
    this.accounts.add(accountId)
    this.size += bytes.length
  }

  /** Whether the account has rows (a stopped run gives the others a row saying so). */
  has(accountId: string): boolean {
    return this.accounts.has(accountId)
  }

  *[Symbol.iterator](): Iterator<string> {
    const rank = (id: string) => this.rank?.get(id) ?? Number.MAX_SAFE_INTEGER
    // Array.prototype.sort is stable: one account's chunks stay in the order they were added.
    const ordered = [...this.entries].sort(
      (a, b) => rank(a.accountId) - rank(b.accountId) || a.accountId.localeCompare(b.accountId)
    )
    for (const entry of ordered) {
      const buffer = Buffer.alloc(entry.length)
      readSync(this.fd, buffer, 0, entry.length, entry.offset)
      yield buffer.toString('utf8')
    }
  }

  /** Closes and deletes the file. */
  remove(): void {
    closeSync(this.fd)
    rmSync(this.path, { force: true })
  }
}
