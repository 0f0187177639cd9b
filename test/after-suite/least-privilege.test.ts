import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  alternatives,
  loadTemplates,
  policyDocuments,
  statements,
  strings,
  type LoadedTemplate
} from '../cfn/policies.js'

/**
 * Least privilege, both ways, from what the suite really did: every end-to-end run of
 * dist/index.js recorded each permission the emulator granted to the project's roles (by the
 * template resource whose policy granted it), and the applications' reads of their own key.
 * Every action used is granted (the emulator enforces that), and every action granted was used,
 * or its line in the template says why it is kept (`# kept: …`).
 */

const LOG_DIR = process.env.IAM_EMULATOR_PERMISSION_LOG_DIR ?? ''

function recordedUses(): Map<string, Set<string>> {
  const uses = new Map<string, Set<string>>()
  if (!existsSync(LOG_DIR)) return uses
  for (const file of readdirSync(LOG_DIR)) {
    for (const line of readFileSync(join(LOG_DIR, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue
      const { origin, action } = JSON.parse(line) as { origin: string; action: string }
      let set = uses.get(origin)
      if (!set) uses.set(origin, (set = new Set()))
      set.add(action)
    }
  }
  return uses
}

interface Grant {
  readonly template: LoadedTemplate
  readonly resource: string
  readonly actions: Set<string>
}

/** The identity policies of each role and managed policy, by the resource's logical id. */
function grants(): Grant[] {
  const byResource = new Map<string, Grant>()
  for (const template of loadTemplates()) {
    for (const document of policyDocuments(template)) {
      if (document.kind !== 'identity') continue
      const key = `${template.file} ${document.resource}`
      let grant = byResource.get(key)
      if (!grant) {
        grant = { template, resource: document.resource, actions: new Set() }
        byResource.set(key, grant)
      }
      for (const statement of statements(document)) {
        if (statement.body['Effect'] !== 'Allow') continue
        for (const action of alternatives(statement.body['Action']).flatMap(strings)) {
          grant.actions.add(action)
        }
      }
    }
  }
  return [...byResource.values()]
}

/** The `# kept: …` reason on an action's line in the template, if any. */
function keptReason(template: LoadedTemplate, action: string): string | undefined {
  const line = template.body
    .split('\n')
    .find(text =>
      new RegExp(`(^|[\\s-]|Action: )${action.replace(/[.*]/g, '\\$&')}\\s*(#|$)`).test(text)
    )
  return /#\s*kept:\s*(.+)$/.exec(line ?? '')?.[1]
}

describe('least privilege, from what the suite used', () => {
  const uses = recordedUses()

  it('has the uses of the whole suite (run npm test, not this file alone)', () => {
    expect([...uses.keys()].sort()).toEqual(
      expect.arrayContaining([
        'CentralRole',
        'ListAccountsRole',
        'MemberRole',
        'ReadOwnSecretPolicy'
      ])
    )
  })

  for (const grant of grants()) {
    const where = `${grant.template.file} › ${grant.resource}`
    it(`${where}: grants every action it was used for, and was used for every action it grants`, () => {
      const used = uses.get(grant.resource) ?? new Set<string>()
      expect(
        [...used].filter(action => !grant.actions.has(action)),
        `${where} used but not granted`
      ).toEqual([])
      const unexplained = [...grant.actions].filter(
        action => !used.has(action) && keptReason(grant.template, action) === undefined
      )
      expect(
        unexplained,
        `${where}: granted, never used by the suite, and no "# kept:" reason`
      ).toEqual([])
    })
  }
})
