import { stringify } from 'csv-stringify/sync'

// CSV for spreadsheets: every cell of every CSV report goes through here. IAM user names may
// begin with `+`, `=`, `@` or `-` (IAM allows [\w+=,.@-]+), account names are set by each
// member account's administrators, and error texts come from AWS: a spreadsheet would run any of
// them as a formula (CSV injection). csv-stringify does the quoting; this does the rest.

/** The characters a spreadsheet reads as the start of a formula (OWASP's CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * One cell as a spreadsheet may safely open it: a cell that starts with `=`, `+`, `-`, `@`, a tab
 * or a carriage return gets a leading `'`, which spreadsheets show as text and do not run.
 * Idempotent: an escaped cell starts with `'` and is left alone.
 */
export function escapeCsvCell(value: string | number): string {
  const text = String(value)
  return FORMULA_START.test(text) ? `'${text}` : text
}

/** Rows as CSV text, each cell escaped, columns in the given order (with the header if asked). */
export function csvText<Column extends string>(
  rows: readonly Readonly<Record<Column, string | number>>[],
  columns: readonly Column[],
  { header = false }: { header?: boolean } = {}
): string {
  const escaped = rows.map(row => columns.map(column => escapeCsvCell(row[column])))
  return stringify(escaped, { header, columns: [...columns] })
}
