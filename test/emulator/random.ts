import { hash, randomBytes } from 'node:crypto'

/** Small seeded PRNG (mulberry32): fault injection that repeats exactly from the same seed. */
export class SeededRandom {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [min, max]. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const HEX = '0123456789abcdef'

/** Prefix that marks every secret the emulator hands out, so nobody mistakes one for a real key. */
export const FAKE_SECRET_PREFIX = 'EMULATORFAKE'

/**
 * Deterministic identifiers in the shapes AWS uses, derived by hashing (seed, name): ids of world
 * entities depend only on the seed and the entity's name, ids of entities created at runtime on
 * the seed and the order of creation. SHA-256 keeps them unique across hundreds of thousands of
 * keys, where a 32-bit PRNG seed would collide.
 */
export class IdFactory {
  private counter = 0

  constructor(private readonly seed: number) {}

  /** `prefix` + `length` characters of `alphabet` derived from the name. */
  private chars(name: string, alphabet: string, length: number, prefix = ''): string {
    const digest = hash('sha256', `${this.seed}:${name}`, 'buffer')
    const out = Buffer.allocUnsafe(prefix.length + length)
    out.write(prefix, 'latin1')
    for (let i = 0; i < length; i++) {
      out[prefix.length + i] = alphabet.charCodeAt((digest[i] ?? 0) % alphabet.length)
    }
    // One flat string (concatenation would keep a chain of pieces): big worlds hold
    // hundreds of thousands of ids.
    return out.toString('latin1')
  }

  private nextName(kind: string): string {
    this.counter += 1
    return `${kind}#${this.counter}`
  }

  /** Long-term access key id: AKIA + 16 base32 characters, like IAM's. */
  accessKeyId(name: string = this.nextName('key')): string {
    return this.chars(name, BASE32, 16, 'AKIA')
  }

  /** Temporary (STS) access key id: ASIA + 16 base32 characters. */
  sessionAccessKeyId(): string {
    return this.chars(this.nextName('session'), BASE32, 16, 'ASIA')
  }

  /** IAM unique ids: AIDA (user), AROA (role), AGPA (group), ANPA (policy) + 17 characters. */
  uniqueId(
    prefix: 'AIDA' | 'AROA' | 'AGPA' | 'ANPA',
    name: string = this.nextName(prefix)
  ): string {
    return this.chars(name, BASE32, 17, prefix)
  }

  /** The six random characters Secrets Manager appends to a secret's ARN. */
  secretSuffix(name: string = this.nextName('secret')): string {
    return this.chars(name, ALPHANUMERIC, 6)
  }

  /** A UUID-shaped id (version ids, stack ids, operation ids, message ids). */
  uuid(name: string = this.nextName('uuid')): string {
    const h = this.chars(name, HEX, 32)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
  }
}

/**
 * Secret access keys are random (never derived from the seed), 40 characters like real ones,
 * and start with a marker so they can never be confused with a real key.
 */
export function fakeSecretAccessKey(): string {
  return FAKE_SECRET_PREFIX + randomBytes(21).toString('base64')
}

export function fakeSessionToken(): string {
  return 'EmulatorSessionToken/' + randomBytes(60).toString('base64')
}
