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
import { PERMISSION_LOG_ENV } from '../emulator/authz/authorize.js'
import { RUN_ID_ENV, RUN_MARKER } from '../support/clear-permission-log.js'

/**
 * Least privilege, both ways, from what the suite really did: every end-to-end run of
 * dist/index.js recorded each permission the emulator granted to the project's roles (by the
 * template resource whose policy granted it), and the applications' reads of their own key.
 * Every action used is granted (the emulator enforces that), and every action an identity policy
 * grants was used, or its line in the template says why it is kept (`# kept: …`). A use counts
 * for an identity policy only when that policy allowed it (a resource policy may allow alone).
 * Trust policies are proven by the end-to-end sign-ins and negative controls; key policies'
 * administration statements serve people, not the action, and are not compared here.
 */

const LOG_DIR = process.env[PERMISSION_LOG_ENV] ?? ''

/** What the suite used: `ORIGIN › SID` → actions. */
function recordedUses(): Map<string, Set<string>> {
  const uses = new Map<string, Set<string>>()
  if (!existsSync(LOG_DIR)) return uses
  for (const file of readdirSync(LOG_DIR).filter(name => name.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(LOG_DIR, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue
      const { origin, sid, action } = JSON.parse(line) as {
        origin: string
        sid: string
        action: string
      }
      const key = `${origin} › ${sid}`
      let set = uses.get(key)
      if (!set) uses.set(key, (set = new Set()))
      set.add(action)
    }
  }
  return uses
}

interface Grant {
  readonly template: LoadedTemplate
  readonly resource: string
  readonly sid: string
  readonly actions: Set<string>
}

/** Every Allow statement of the identity policies of each role and managed policy. */
function grants(): Grant[] {
  const found: Grant[] = []
  for (const template of loadTemplates()) {
    for (const document of policyDocuments(template)) {
      if (document.kind !== 'identity') continue
      for (const statement of statements(document)) {
        if (statement.body['Effect'] !== 'Allow') continue
        const sid = typeof statement.body['Sid'] === 'string' ? statement.body['Sid'] : '(no Sid)'
        found.push({
          template,
          resource: document.resource,
          sid,
          actions: new Set(alternatives(statement.body['Action']).flatMap(strings))
        })
      }
    }
  }
  return found
}

/** The `# kept: …` reason on an action's line, within the resource's own part of the template. */
function keptReason(
  template: LoadedTemplate,
  resource: string,
  action: string
): string | undefined {
  const lines = template.body.split('\n')
  const start = lines.findIndex(line => line === `  ${resource}:`)
  const length = lines.slice(start + 1).findIndex(line => /^ {0,2}\S/.test(line))
  const block = lines.slice(start + 1, length < 0 ? undefined : start + 1 + length)
  const escaped = action.replace(/[.*]/g, '\\$&')
  const line = block.find(text => new RegExp(`(^|[\\s-]|Action: )${escaped}\\s*(#|$)`).test(text))
  return /#\s*kept:\s*(.+)$/.exec(line ?? '')?.[1]
}

/** Whether the log was written by this Vitest run (its suite project's global setup). */
function fromThisRun(): boolean {
  const marker = join(LOG_DIR, RUN_MARKER)
  if (!existsSync(marker)) return false
  const { runId } = JSON.parse(readFileSync(marker, 'utf8')) as { runId: string }
  return runId === process.env[RUN_ID_ENV]
}

describe('least privilege, from what the suite used', () => {
  const uses = recordedUses()

  it('has the uses of the whole suite, from this run (run npm test, not this file alone)', () => {
    expect(fromThisRun(), `${LOG_DIR} is not from this run`).toBe(true)
    const origins = new Set([...uses.keys()].map(key => key.split(' › ')[0]))
    expect([...origins].sort()).toEqual(
      expect.arrayContaining([
        'CentralRole',
        'ListAccountsRole',
        'MemberRole',
        'ReadOwnSecretPolicy'
      ])
    )
  })

  for (const grant of grants()) {
    const where = `${grant.template.file} › ${grant.resource} › ${grant.sid}`
    it(`${where}: grants every action it was used for, and was used for every action it grants`, () => {
      const used = uses.get(`${grant.resource} › ${grant.sid}`) ?? new Set<string>()
      expect(
        [...used].filter(action => !grant.actions.has(action)),
        `${where} used but not granted`
      ).toEqual([])
      const unexplained = [...grant.actions].filter(
        action =>
          !used.has(action) && keptReason(grant.template, grant.resource, action) === undefined
      )
      expect(
        unexplained,
        `${where}: granted, never used by the suite, and no "# kept:" reason`
      ).toEqual([])
    })
  }
})
