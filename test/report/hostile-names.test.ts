import { fileURLToPath } from 'node:url'
import { parse } from 'csv-parse/sync'
import MarkdownIt from 'markdown-it'
import { beforeAll, describe, expect, it } from 'vitest'
import { desiredIssues } from '../../src/issues/bodies.js'
import { planNotifications } from '../../src/notify/mails.js'
import { loadTemplates, type MailTemplates } from '../../src/notify/templates.js'
import type { Plan, PlanAccount, PlanUser } from '../../src/plan/types.js'
import { planMarkdown, summaryMarkdown } from '../../src/report/markdown.js'
import { planCsvChunks } from '../../src/report/write.js'
import { fixturePlan } from './fixture-plan.js'
import { HOSTILE_STRINGS } from './markdown-escape.test.js'

// Every string a member account's admin or an IAM user chooses, set to one hostile value at once,
// through every output that renders Markdown: the rendered structure must be the structure a
// plain name gets (no element, link, mention or table cell of the value's own).
const md = new MarkdownIt({ html: true, linkify: true })

/** The fixture plan with every user-controlled string in it set to `value`. */
function hostilePlan(value: string): Plan {
  const plan = fixturePlan()
  const users = (account: PlanAccount, edit: (user: PlanUser, index: number) => PlanUser) => ({
    ...account,
    users: account.users.map(edit)
  })
  const accounts = plan.accounts.map((account, a): PlanAccount => {
    const named = { ...account, accountName: value }
    if (account.status === 'failed') return { ...named, error: value }
    return users(named, (user, u) => ({
      ...user,
      userName: `${value}${a}${u}`,
      ...(user.owner !== undefined ? { owner: value } : {}),
      ...(user.error !== undefined ? { error: value } : {}),
      ...(user.notes ? { notes: [value] } : {}),
      ...(user.secret ? { secret: { ...user.secret, name: value } } : {}),
      ...(user.stateFindings
        ? { stateFindings: user.stateFindings.map(f => ({ ...f, problem: value })) }
        : {}),
      actions: user.actions.map(action => ({
        ...action,
        ...(action.detail !== undefined ? { detail: value } : {}),
        ...(action.error !== undefined ? { error: value } : {})
      }))
    }))
  })
  return {
    ...plan,
    accounts,
    warnings: [value],
    notifications: {
      ...plan.notifications!,
      failed: plan.notifications!.failed.map(mail => ({ ...mail, to: value, error: value }))
    }
  }
}

/** The rendered elements, counted, without their text: what a hostile value must not change. */
function structure(markdown: string): Record<string, number> {
  const html = md.render(markdown).replace(/<!--[\s\S]*?-->/g, '<!-- -->')
  const counts: Record<string, number> = {}
  for (const [, tag] of html.matchAll(/<(\/?[a-z0-9]+)/g)) counts[tag!] = (counts[tag!] ?? 0) + 1
  return counts
}

/** Links and mentions outside code: only the run's own links, and no bare `@name`. */
function linksAndMentions(markdown: string): { links: string[]; mentions: string[] } {
  const html = md
    .render(markdown)
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<code[^>]*>[\s\S]*?<\/code>/g, '')
  return {
    links: [...html.matchAll(/href="([^"]*)"/g)].map(match => match[1] ?? ''),
    mentions: [...html.matchAll(/@(?!\u200b|&#8203;)\w+/g)].map(match => match[0])
  }
}

const outputs: [string, (plan: Plan) => string[]][] = [
  ['plan.md', plan => [planMarkdown(plan)]],
  ['the job summary', plan => [summaryMarkdown(plan)]],
  ['issue bodies', plan => desiredIssues(plan).map(issue => issue.body)]
]

describe.each(outputs)('hostile names in %s', (_, render) => {
  const plain = render(hostilePlan('plain-name'))

  it.each(HOSTILE_STRINGS)('%j renders as text, the structure unchanged', value => {
    const hostile = render(hostilePlan(value))
    expect(hostile).toHaveLength(plain.length)
    hostile.forEach((markdown, i) => {
      expect(structure(markdown)).toEqual(structure(plain[i] ?? ''))
      const seen = linksAndMentions(markdown)
      expect(seen.links).toEqual(linksAndMentions(plain[i] ?? '').links)
      expect(seen.mentions).toEqual([])
    })
  })
})

describe('hostile names in issue titles', () => {
  it.each(HOSTILE_STRINGS)('%j gives one line, no code span, at most 256 characters', value => {
    for (const { title } of desiredIssues(hostilePlan(value))) {
      expect(title).not.toMatch(/[`\n\r\t\u202e]/)
      expect(title.length).toBeLessThanOrEqual(256)
    }
  })
})

describe('hostile names in plan.csv', () => {
  it.each(HOSTILE_STRINGS)('%j never starts a cell a spreadsheet would run', value => {
    const csv = (plan: Plan): string[][] => parse([...planCsvChunks(plan)].join(''))
    const rows = csv(hostilePlan(value))
    const plainRows = csv(hostilePlan('plain-name'))
    expect(rows).toHaveLength(plainRows.length)
    for (const row of rows) {
      expect(row).toHaveLength(plainRows[0]?.length ?? 0)
      for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/)
    }
  })
})

describe('hostile names in mails', () => {
  const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url))
  let templates: MailTemplates
  beforeAll(async () => {
    templates = (await loadTemplates(TEMPLATES, { bundledDir: TEMPLATES })).templates
  })
  const mails = (value: string) =>
    planNotifications(
      hostilePlan(value),
      ['222222222222', '333333333333'].map(id => ({ id, email: `${id}@example.com` })),
      {
        sender: 'security@example.com',
        notifyAccountEmail: true,
        ownerTag: 'owner',
        reminderDays: [1],
        region: 'eu-west-1',
        templates
      }
    ).mails.filter(mail => /^\d{12}@example\.com$/.test(mail.to)) // an owner tag may be valid
  /** The HTML elements of a mail, counted: a hostile value must add none. */
  const elements = (html: string) => {
    const counts: Record<string, number> = {}
    for (const [, tag] of html.matchAll(/<(\/?[a-z0-9]+)/g)) counts[tag!] = (counts[tag!] ?? 0) + 1
    return counts
  }

  it.each(HOSTILE_STRINGS)('%j is text in the HTML part, the structure unchanged', value => {
    const plain = mails('plain-name')
    const hostile = mails(value)
    expect(hostile.map(mail => mail.to)).toEqual(plain.map(mail => mail.to))
    hostile.forEach((mail, i) => {
      expect(elements(mail.html)).toEqual(elements(plain[i]?.html ?? ''))
      expect(mail.subject).not.toMatch(/[\r\n]/)
    })
  })
})
