import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import {
  codeBlock,
  codeSpan,
  htmlText,
  issueTitle,
  markdownText,
  shellArgument
} from '../../src/report/markdown-escape.js'

// Each helper is checked by rendering its output, as GitHub would, with a CommonMark renderer
// that has GFM tables, raw HTML and autolinks on: the hostile text must come out as the same
// text, with no element of its own and no extra table cell.
const md = new MarkdownIt({ html: true, linkify: true })

/** Strings a member account's admin or an IAM user can choose (account, user, tag, secret names). */
export const HOSTILE_STRINGS: readonly string[] = [
  'plain-name',
  '@octocat please look',
  'ops@example.com',
  '[click](https://evil.example/x)',
  '![img](https://evil.example/i.png)',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '</details><details open>',
  'a | b | c',
  '`code` and ``double`` and ```triple```',
  '`',
  '``',
  ' leading and trailing ',
  '**bold** _em_ ~~strike~~',
  '# heading',
  'acme/infra#1 and #2',
  '> quote',
  'https://evil.example/path',
  'www.evil.example',
  '&lt;b&gt; &#64;octocat',
  'line\nbreak\r\nand\ttab',
  'bidi \u202eevil\u202c override',
  '=1+2',
  '\\escaped\\',
  'ci_bot+deploy=x,y.z@corp'
]

// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

const VISIBLE = (value: string) => value.replace(/\r\n?|\n|\t/g, ' ').replace(INVISIBLE, '\ufffd')

/** The rendered HTML's text, entities decoded, zero-width spaces removed. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\u200b/g, '')
    .trim()
}

const tags = (html: string) => [...html.matchAll(/<(\/?[a-z]+)/g)].map(match => match[1])

describe('markdownText', () => {
  it.each(HOSTILE_STRINGS)('renders %j as its own text, and nothing else', value => {
    const html = md.renderInline(markdownText(value))
    expect(tags(html)).toEqual([])
    expect(textOf(html)).toBe(VISIBLE(value).trim())
    // No mention or autolink can form: every @ and :// is followed by a zero-width space.
    expect(html).not.toMatch(/@(?!&#8203;|\u200b)/)
  })

  it.each(HOSTILE_STRINGS)('keeps %j in its table cell', value => {
    const table = `| a | b | c |\n|---|---|---|\n| ${markdownText(value)} | x | y |`
    const html = md.render(table)
    expect(html.match(/<td>/g)).toHaveLength(3)
    expect(tags(html).filter(tag => !/^\/?(table|thead|tbody|tr|th|td)$/.test(tag ?? ''))).toEqual(
      []
    )
  })
})

describe('codeSpan', () => {
  it.each(HOSTILE_STRINGS.filter(value => value.trim() !== ''))(
    'holds %j in one code span',
    value => {
      const html = md.renderInline(codeSpan(value))
      expect(tags(html)).toEqual(['code', '/code'])
      expect(textOf(html)).toBe(VISIBLE(value).trim())
    }
  )

  it.each(HOSTILE_STRINGS.filter(value => value.trim() !== ''))(
    'holds %j in one code span in a table cell',
    value => {
      const html = md.render(`| a | b |\n|---|---|\n| ${codeSpan(value, true)} | x |`)
      expect(html.match(/<td>/g)).toHaveLength(2)
      expect(html.match(/<code>/g)).toHaveLength(1)
    }
  )

  it('fences longer than any backtick run inside', () => {
    expect(codeSpan('a')).toBe('`a`')
    expect(codeSpan('a`b')).toBe('``a`b``')
    expect(codeSpan('a``b')).toBe('```a``b```')
    expect(codeSpan('`x')).toBe('`` `x ``')
    expect(codeSpan('')).toBe('')
  })
})

describe('codeBlock', () => {
  it.each(HOSTILE_STRINGS)('cannot be closed early by %j', value => {
    const html = md.render(`${codeBlock(`before\n${value}\n\`\`\`\nafter`)}\n\n**outside**`)
    expect(html.match(/<pre>/g)).toHaveLength(1)
    expect(html).toContain('<strong>outside</strong>')
  })
})

describe('htmlText', () => {
  it.each(HOSTILE_STRINGS)('renders %j inside <summary> as text', value => {
    const html = md.render(`<details><summary>${htmlText(value)}</summary>\n\nbody\n\n</details>`)
    expect(tags(html).filter(tag => tag !== 'p' && tag !== '/p')).toEqual([
      'details',
      'summary',
      '/summary',
      '/details'
    ])
  })
})

describe('issueTitle', () => {
  it.each(HOSTILE_STRINGS)('makes %j one line without code spans or controls', value => {
    const title = issueTitle(`IAM key rotation blocked: ${value}`)
    expect(title).not.toMatch(/[\n\r\t`\u202a-\u202e]/)
  })

  it('is cut at 256 characters', () => {
    expect(issueTitle('x'.repeat(300))).toHaveLength(256)
  })
})

describe('shellArgument', () => {
  it.each([
    ['ci-bot', 'ci-bot'],
    ['ci_bot+deploy=x,y.z@corp', 'ci_bot+deploy=x,y.z@corp'],
    ['iam-key-rotation/222222222222/ci-bot', 'iam-key-rotation/222222222222/ci-bot'],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$(rm -rf ~)', "'$(rm -rf ~)'"],
    ['x;y|z`w`', "'x;y|z`w`'"],
    ['line\nbreak', "'line break'"]
  ])('quotes %j as %s', (value, quoted) => {
    expect(shellArgument(value)).toBe(quoted)
  })
})
