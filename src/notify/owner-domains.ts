import { asciiLowerCase } from '../util/ascii.js'

/**
 * Whether an owner-tag address is on a domain of owner-email-domains (lowercase entries, as the
 * inputs give them). An entry matches its domain exactly; "*.example.com" matches every
 * subdomain of example.com but not example.com itself (list both to allow both). No entries:
 * every domain. The tag is hostile input, so anything unusual does not match: a non-ASCII domain
 * (compare an IDN's xn-- form), a trailing dot, an address without exactly one "@".
 */
export function ownerDomainAllowed(address: string, domains: readonly string[]): boolean {
  if (domains.length === 0) return true
  const parts = address.split('@')
  if (parts.length !== 2) return false
  const domain = asciiLowerCase(parts[1] ?? '')
  if (!/^[a-z0-9.-]+$/.test(domain)) return false
  return domains.some(entry =>
    entry.startsWith('*.') ? domain.endsWith(entry.slice(1)) : domain === entry
  )
}
