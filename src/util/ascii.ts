/**
 * Lowercases A-Z only. String.prototype.toLowerCase maps some non-ASCII letters to ASCII ones
 * (the Kelvin sign U+212A to "k"), which would let a lookalike domain compare equal to an
 * allowed one.
 */
export function asciiLowerCase(value: string): string {
  return value.replace(/[A-Z]/g, letter => letter.toLowerCase())
}
