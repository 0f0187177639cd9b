import { randomBytes, type KeyObject } from 'node:crypto'

/**
 * ECDSA on P-256 over a digest the caller computed (KMS Sign and Verify with MessageType
 * DIGEST). node:crypto always hashes the message itself, so this does the curve arithmetic
 * with BigInt; RAW messages use node:crypto. Test code: no constant-time care is taken.
 */

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const A = P - 3n
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const G: Point = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n
}

/** An affine point; undefined is the point at infinity. */
interface Point {
  x: bigint
  y: bigint
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m
  return r < 0n ? r + m : r
}

function inverse(a: bigint, m: bigint): bigint {
  let [low, high] = [mod(a, m), m]
  let [lm, hm] = [1n, 0n]
  while (low > 1n) {
    const ratio = high / low
    ;[lm, hm] = [hm - lm * ratio, lm]
    ;[low, high] = [high - low * ratio, low]
  }
  return mod(lm, m)
}

function add(p: Point | undefined, q: Point | undefined): Point | undefined {
  if (!p) return q
  if (!q) return p
  let slope: bigint
  if (p.x === q.x) {
    if (mod(p.y + q.y, P) === 0n) return undefined
    slope = mod((3n * p.x * p.x + A) * inverse(2n * p.y, P), P)
  } else {
    slope = mod((q.y - p.y) * inverse(q.x - p.x, P), P)
  }
  const x = mod(slope * slope - p.x - q.x, P)
  return { x, y: mod(slope * (p.x - x) - p.y, P) }
}

function multiply(k: bigint, point: Point): Point | undefined {
  let result: Point | undefined
  let addend: Point | undefined = point
  for (let rest = k; rest > 0n; rest >>= 1n) {
    if (rest & 1n) result = add(result, addend)
    addend = add(addend, addend)
  }
  return result
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`)
}

function fromBase64Url(text: string | undefined): bigint {
  return toBigInt(Buffer.from(text ?? '', 'base64url'))
}

/** The digest as an integer: its leftmost 256 bits (FIPS 186-4). */
function digestInteger(digest: Uint8Array): bigint {
  return toBigInt(digest.subarray(0, 32))
}

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  let bytes = Buffer.from(hex, 'hex')
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes])
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }`, as KMS (and node:crypto) encode ECDSA signatures. */
function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)])
  return Buffer.concat([Buffer.from([0x30, body.length]), body])
}

/** r and s of a DER signature; undefined when it is not one. */
function parseDerSignature(signature: Uint8Array): { r: bigint; s: bigint } | undefined {
  const bytes = Buffer.from(signature)
  if (bytes[0] !== 0x30 || bytes[1] !== bytes.length - 2) return undefined
  const values: bigint[] = []
  let at = 2
  while (at < bytes.length) {
    const length = bytes[at + 1] ?? 0
    if (bytes[at] !== 0x02 || at + 2 + length > bytes.length) return undefined
    values.push(toBigInt(bytes.subarray(at + 2, at + 2 + length)))
    at += 2 + length
  }
  const [r, s] = values
  return values.length === 2 && r !== undefined && s !== undefined ? { r, s } : undefined
}

/** A DER ECDSA signature of a 32-byte digest, with a fresh random nonce. */
export function signDigest(digest: Uint8Array, privateKey: KeyObject): Buffer {
  const d = fromBase64Url(privateKey.export({ format: 'jwk' }).d)
  const z = digestInteger(digest)
  for (;;) {
    const k = toBigInt(randomBytes(32))
    if (k === 0n || k >= N) continue
    const point = multiply(k, G)
    if (!point) continue
    const r = mod(point.x, N)
    if (r === 0n) continue
    const s = mod(inverse(k, N) * (z + r * d), N)
    if (s !== 0n) return derSignature(r, s)
  }
}

/** Whether a DER ECDSA signature is valid for the digest. */
export function verifyDigest(
  digest: Uint8Array,
  signature: Uint8Array,
  publicKey: KeyObject
): boolean {
  const parsed = parseDerSignature(signature)
  if (!parsed) return false
  const { r, s } = parsed
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false
  const jwk = publicKey.export({ format: 'jwk' })
  const q = { x: fromBase64Url(jwk.x), y: fromBase64Url(jwk.y) }
  const w = inverse(s, N)
  const point = add(multiply(mod(digestInteger(digest) * w, N), G), multiply(mod(r * w, N), q))
  return point !== undefined && mod(point.x, N) === r
}
