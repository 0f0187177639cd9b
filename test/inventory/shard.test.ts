import { describe, expect, it } from 'vitest'
import { shardOf } from '../../src/inventory/accounts.js'

const accounts = Array.from({ length: 1000 }, (_, i) => String(100000000000 + i * 7919))

describe('shardOf', () => {
  it.each([1, 2, 3, 4, 7, 16])('puts every account in exactly one of %i shards', count => {
    const shards = new Map<number, string[]>()
    for (const id of accounts) {
      const shard = shardOf(id, count)
      expect(shard).toBeGreaterThanOrEqual(1)
      expect(shard).toBeLessThanOrEqual(count)
      shards.set(shard, [...(shards.get(shard) ?? []), id])
    }
    expect([...shards.values()].flat().sort()).toEqual([...accounts].sort())
    // Balanced enough that no shard is empty or carries double its share.
    for (const members of shards.values())
      expect(members.length).toBeLessThan((2 * accounts.length) / count)
  })

  it('is stable: the same account lands in the same shard whatever else exists', () => {
    expect(shardOf('222222222222', 4)).toBe(shardOf('222222222222', 4))
  })
})
