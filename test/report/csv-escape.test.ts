import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { csvText, escapeCsvCell } from '../../src/report/csv-escape.js'

describe('escapeCsvCell: what a spreadsheet would run as a formula is made text', () => {
  it.each([
    // Formula starts (OWASP's list): a leading ' makes them text.
    { cell: '=1+2', want: "'=1+2" },
    { cell: '+SUM(A1)', want: "'+SUM(A1)" },
    { cell: '-2', want: "'-2" },
    { cell: '@cmd', want: "'@cmd" },
    { cell: '\t=x', want: "'\t=x" },
    { cell: '\r=x', want: "'\r=x" },
    {
      cell: '=HYPERLINK("http://example.invalid","x")',
      want: '\'=HYPERLINK("http://example.invalid","x")'
    },
    // IAM user names may start with + = @ - (IAM allows [\w+=,.@-]+).
    { cell: '=cmd', want: "'=cmd" },
    { cell: '@x', want: "'@x" },
    { cell: '+ops', want: "'+ops" },
    { cell: '-svc', want: "'-svc" },
    // Left alone: ordinary text, a formula character later in the cell, empty, already escaped.
    { cell: 'ci-bot', want: 'ci-bot' },
    { cell: 'a=b', want: 'a=b' },
    { cell: 'user@example.com', want: 'user@example.com' },
    { cell: ' =x', want: ' =x' },
    { cell: '', want: '' },
    { cell: "'=cmd", want: "'=cmd" },
    { cell: '2025-06-01T12:00:00.000Z', want: '2025-06-01T12:00:00.000Z' },
    { cell: 95, want: '95' },
    { cell: -3, want: "'-3" }
  ])('$cell → $want', ({ cell, want }) => {
    expect(escapeCsvCell(cell)).toBe(want)
  })

  it('is idempotent, so a merged CSV is escaped once', () => {
    for (const cell of ['=1+2', '@x', '\t=x', 'plain', '']) {
      expect(escapeCsvCell(escapeCsvCell(cell))).toBe(escapeCsvCell(cell))
    }
  })
})

describe('csvText', () => {
  it('escapes every cell and quotes as CSV needs; a parser reads the escaped text back', () => {
    const text = csvText(
      [
        { user: '=cmd|calc', note: 'a, "quoted"\nline' },
        { user: 'plain', note: '-1' }
      ],
      ['user', 'note'] as const,
      { header: true }
    )
    expect(text).toBe(`user,note\n'=cmd|calc,"a, ""quoted""\nline"\nplain,'-1\n`)
    expect(parse(text, { columns: true })).toEqual([
      { user: "'=cmd|calc", note: 'a, "quoted"\nline' },
      { user: 'plain', note: "'-1" }
    ])
  })

  it('writes only the header for no rows, in the order of the columns given', () => {
    expect(csvText([], ['b', 'a'] as const, { header: true })).toBe('b,a\n')
  })
})
