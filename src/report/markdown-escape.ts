// Escaping for the contexts GitHub renders: Markdown text, inline code, raw HTML and issue titles.
// Account names, user names, tag values, secret names and AWS error messages can all be chosen by
// a member account's admin or an IAM user: none of them may turn into a link, image, mention,
// HTML, a table column or an escape from a code span.

/** Control characters and bidirectional overrides ("Trojan Source"): shown as U+FFFD. */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/** One line of text: newlines and tabs become spaces, invisible controls become U+FFFD. */
function oneLine(value: string): string {
  return value.replace(/\r\n?|\n|\t/g, ' ').replace(INVISIBLE, '\ufffd')
}

/**
 * A zero-width space: breaks `@name` mentions, `#1` references, email and URL autolinks without
 * changing the text (as an entity: the character itself lets fuzzy linkifiers see `example.com`).
 */
const BREAK = '&#8203;'

/**
 * Text outside code, in a paragraph, list item or table cell. Every character that Markdown or
 * GitHub gives a meaning is neutralised: `\` `` ` `` `*` `_` `~` `[` `]` `|` by a backslash; `<`,
 * `>` and `&` as entities (no HTML, no entity smuggled in); `@`, `#` and `://` get a zero-width
 * space after them, so no mention, issue reference (`org/repo#1`) or autolink forms.
 */
export function markdownText(value: string | number | undefined): string {
  return oneLine(String(value ?? ''))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_~[\]|#!]/g, char => `\\${char}`)
    .replace(/#/g, `#${BREAK}`)
    .replace(/@/g, `@${BREAK}`)
    .replace(/:\/\//g, `:${BREAK}//`)
    .replace(/\bwww\./gi, match => `${match.slice(0, 3)}${BREAK}.`)
}

/**
 * An inline code span no content can close: the fence is one backtick longer than the longest run
 * inside, padded with a space where CommonMark would otherwise strip or join. Nothing inside a
 * code span renders (no link, HTML or mention). In a table cell a pipe is escaped even there.
 */
export function codeSpan(value: string, inTable = false): string {
  const flat = oneLine(value)
  if (flat === '') return ''
  const safe = inTable ? flat.replace(/\|/g, '\\|') : flat
  const longest = Math.max(0, ...[...safe.matchAll(/`+/g)].map(run => run[0].length))
  const fence = '`'.repeat(longest + 1)
  const pad = /^[` ]|[` ]$/.test(safe) ? ' ' : ''
  return `${fence}${pad}${safe}${pad}${fence}`
}

/** A fenced code block (``` or longer) that the text cannot close early. */
export function codeBlock(text: string, info = 'text'): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map(run => run[0].length))
  const fence = '`'.repeat(longest + 1)
  return `${fence}${info}\n${text.replace(INVISIBLE, '\ufffd')}\n${fence}`
}

/** Text inside raw HTML (a `<summary>`): entities, and mentions broken as in Markdown text. */
export function htmlText(value: string): string {
  return oneLine(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/@/g, `@${BREAK}`)
}

/**
 * One argument of a POSIX shell command shown for a person to copy (inside a code block): one
 * line, and single-quoted unless it is only characters no shell gives a meaning.
 */
export function shellArgument(value: string): string {
  const flat = oneLine(value)
  return /^[\w+=,.@/:-]+$/.test(flat) ? flat : `'${flat.replace(/'/g, "'\\''")}'`
}

/** GitHub cuts issue titles at 256 characters. */
const TITLE_LIMIT = 256

/**
 * An issue title: one line, no invisible controls, no backticks (titles render code spans), at
 * most 256 characters. Titles render no links or mentions.
 */
export function issueTitle(value: string): string {
  // A zero-width space after # keeps `org/repo#1` from cross-referencing another issue.
  const text = oneLine(value)
    .replace(/`/g, "'")
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/#/g, '#\u200b')
  return text.length > TITLE_LIMIT ? `${text.slice(0, TITLE_LIMIT - 1)}…` : text
}
