import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { planNotifications, type NotificationOptions } from '../../src/notify/mails.js'
import { ownerDomainAllowed } from '../../src/notify/owner-domains.js'
import { loadTemplates, type MailTemplates } from '../../src/notify/templates.js'
import { account, action, DEV, PROD, key, plan, user } from './plan-builders.js'

const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url))
let templates: MailTemplates

beforeAll(async () => {
  templates = (await loadTemplates(TEMPLATES_DIR, { bundledDir: TEMPLATES_DIR })).templates
})

describe('ownerDomainAllowed', () => {
  const domains = ['example.com', '*.corp.example.org']

  it.each<[string, boolean]>([
    ['alice@example.com', true],
    ['Alice@EXAMPLE.COM', true],
    ['bob@team.corp.example.org', true],
    ['bob@a.b.corp.example.org', true],
    // Exact match: a subdomain of an exact entry is not on the list.
    ['alice@mail.example.com', false],
    // "*." is for subdomains only.
    ['bob@corp.example.org', false],
    ['mallory@evil.com', false],
    ['mallory@example.com.evil.com', false],
    ['mallory@evilexample.com', false],
    ['mallory@evilcorp.example.org', false],
    ['mallory@example.co', false],
    ['mallory@example.com.', false],
    ['mallory@example.com@evil.com', false],
    ['no-at-sign', false],
    // The Kelvin sign lowercases to "k" with toLowerCase; it must not pass for an ASCII domain.
    ['mallory@\u212Aexample.com', false],
    ['mallory@exаmple.com', false], // Cyrillic "а"
    ['mallory@example.com\u200b', false]
  ])('%s: %s', (address, allowed) => {
    expect(ownerDomainAllowed(address, domains)).toBe(allowed)
  })

  it('allows every domain when the list is empty', () => {
    expect(ownerDomainAllowed('anyone@anywhere.example', [])).toBe(true)
  })

  it('compares the Kelvin sign lookalike with an entry it would lowercase to', () => {
    expect(ownerDomainAllowed('mallory@\u212Aexample.com', ['kexample.com'])).toBe(false)
    expect(ownerDomainAllowed('alice@Kexample.com', ['kexample.com'])).toBe(true)
  })
})

describe('planNotifications with owner-email-domains', () => {
  function options(overrides: Partial<NotificationOptions> = {}): NotificationOptions {
    return {
      sender: 'security@example.com',
      notifyAccountEmail: true,
      ownerTag: 'owner',
      ownerEmailDomains: ['example.com'],
      reminderDays: [1],
      region: 'eu-west-1',
      templates,
      ...overrides
    }
  }

  const blocked = (name: string, owner: string) =>
    user(
      name,
      [key(`K-${name}`, 95)],
      [action('BLOCKED', `K-${name}`, 'ROTATION_BLOCKED_BY_CONFLICT')],
      owner
    )

  it('mails only owner addresses on the list and reports the others', () => {
    const p = plan('enforce', [
      account(DEV.id, DEV.name, [
        blocked('a', 'alice@example.com'),
        blocked('b', 'mallory@evil.example.net alice@example.com'),
        blocked('c', 'eve@other.test')
      ])
    ])
    // The account's address is not filtered, whatever its domain.
    const contacts = [{ ...DEV, email: 'dev-root@aws-accounts.test' }]
    const { mails, warnings } = planNotifications(p, contacts, options())
    expect(mails.map(m => m.to).sort()).toEqual(['alice@example.com', 'dev-root@aws-accounts.test'])
    const alice = mails.find(m => m.to === 'alice@example.com')
    expect(alice?.items.map(i => i.userName)).toEqual(['a', 'b'])
    expect(alice?.accountContact).toBe(false)
    expect(mails.find(m => m.to === 'dev-root@aws-accounts.test')?.accountContact).toBe(true)
    expect(warnings).toEqual([
      'Tag "owner" of IAM user b in account 222222222222 names mallory@evil.example.net, on a domain not in owner-email-domains (example.com); that address gets no owner mail.',
      'Tag "owner" of IAM user c in account 222222222222 names eve@other.test, on a domain not in owner-email-domains (example.com); that address gets no owner mail.'
    ])
  })

  it('an owner address that is also the account address still gets the account mail', () => {
    const p = plan('enforce', [account(DEV.id, DEV.name, [blocked('a', 'dev@aws.test')])])
    const { mails, warnings } = planNotifications(p, [{ ...DEV, email: 'dev@aws.test' }], options())
    expect(mails.map(m => m.to)).toEqual(['dev@aws.test'])
    expect(mails[0]?.accountContact).toBe(true)
    expect(warnings).toHaveLength(1)
  })

  it('a non-ASCII lookalike owner address neither gets mail nor takes over an account address', () => {
    // U+212A (Kelvin sign) lowercases to "k": merged on toLowerCase, this owner tag in PROD would
    // have taken DEV's account mail, items and all.
    const p = plan('enforce', [
      account(DEV.id, DEV.name, [blocked('a', 'x@example.com')]),
      account(PROD.id, PROD.name, [blocked('b', '\u212Aim@example.com')])
    ])
    const contacts = [
      { ...DEV, email: 'kim@example.com' },
      { ...PROD, email: 'prod@example.com' }
    ]
    const { mails, warnings } = planNotifications(p, contacts, options())
    const kim = mails.find(m => m.to === 'kim@example.com')
    expect(kim?.items.map(i => i.accountId)).toEqual([DEV.id])
    expect(mails.map(m => m.to)).not.toContain('\u212Aim@example.com')
    expect(warnings.join('\n')).toMatch(
      /is "\u212Aim@example.com", which is not a list of email addresses/
    )
  })

  it('takes at most five addresses from one owner tag', () => {
    const owners = Array.from({ length: 7 }, (_, i) => `o${i}@example.com`).join(' ')
    const p = plan('enforce', [account(DEV.id, DEV.name, [blocked('a', owners)])])
    const { mails, warnings } = planNotifications(p, [DEV], options({ notifyAccountEmail: false }))
    expect(mails.map(m => m.to).sort()).toEqual(
      ['o0', 'o1', 'o2', 'o3', 'o4'].map(local => `${local}@example.com`)
    )
    expect(warnings).toEqual([
      'Tag "owner" of IAM user a in account 222222222222 names 7 addresses; only the first 5 get mail.'
    ])
  })

  it('filters nothing without a list', () => {
    const p = plan('enforce', [account(DEV.id, DEV.name, [blocked('c', 'eve@other.test')])])
    const { mails, warnings } = planNotifications(p, [DEV], options({ ownerEmailDomains: [] }))
    expect(mails.map(m => m.to).sort()).toEqual(['dev@example.com', 'eve@other.test'])
    expect(warnings).toEqual([])
  })
})
