import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mailView, planNotifications } from '../../src/notify/mails.js'
import {
  bundledTemplatesDir,
  loadTemplates,
  renderHtml,
  renderText,
  TEMPLATE_FILES,
  TemplateError
} from '../../src/notify/templates.js'
import * as builders from './plan-builders.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BUNDLED = join(REPO_ROOT, 'templates')

let work: string

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'notify-templates-'))
})

afterEach(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('bundledTemplatesDir', () => {
  it('is templates/ beside the folder of the module: dist/index.js and src/main.ts alike', () => {
    expect(bundledTemplatesDir('file:///opt/action/dist/index.js')).toBe('/opt/action/templates/')
    const fromSrc = bundledTemplatesDir(pathToFileURL(join(REPO_ROOT, 'src', 'main.ts')).href)
    expect(join(fromSrc)).toBe(join(BUNDLED, '/'))
  })

  it('the action ships all four templates and their README', async () => {
    const files = await readdir(BUNDLED)
    for (const pair of Object.values(TEMPLATE_FILES)) {
      expect(files).toContain(pair.html)
      expect(files).toContain(pair.text)
    }
    expect(files).toContain('README.md')
  })
})

describe('loadTemplates', () => {
  it('falls back to the bundled templates when the repository has no templates folder', async () => {
    const loaded = await loadTemplates(join(work, 'templates'), { bundledDir: BUNDLED })
    expect(loaded.warnings).toEqual([])
    expect(Object.values(loaded.sources).every(path => path.startsWith(BUNDLED))).toBe(true)
    expect(loaded.templates.enforce.text).toContain('CHANGES MADE')
  })

  it('warns when a templates-dir the user named does not exist', async () => {
    const loaded = await loadTemplates(join(work, 'mail'), {
      bundledDir: BUNDLED,
      warnWhenMissing: true
    })
    expect(loaded.warnings).toEqual([
      `templates-dir "${join(work, 'mail')}" does not exist; the email templates bundled with the action are used.`
    ])
  })

  it('takes each file from the user folder when it is there, the rest from the bundle', async () => {
    const dir = join(work, 'templates')
    await mkdir(dir)
    await writeFile(join(dir, 'enforce.txt.mustache'), 'Custom {{recipient}}')
    const loaded = await loadTemplates(dir, { bundledDir: BUNDLED })
    expect(loaded.templates.enforce.text).toBe('Custom {{recipient}}')
    expect(loaded.sources['enforce.txt.mustache']).toBe(join(dir, 'enforce.txt.mustache'))
    expect(loaded.sources['enforce.html.mustache']).toBe(join(BUNDLED, 'enforce.html.mustache'))
  })

  it('names the file of a template that is not valid mustache', async () => {
    const dir = join(work, 'templates')
    await mkdir(dir)
    await writeFile(join(dir, 'audit.html.mustache'), '{{#items}} never closed')
    await expect(loadTemplates(dir, { bundledDir: BUNDLED })).rejects.toThrow(TemplateError)
    await expect(loadTemplates(dir, { bundledDir: BUNDLED })).rejects.toThrow(
      /audit\.html\.mustache is not valid mustache/
    )
  })

  it('fails when a template is found nowhere', async () => {
    await expect(
      loadTemplates(join(work, 'none'), { bundledDir: join(work, 'also-none') })
    ).rejects.toThrow(/audit\.html\.mustache is neither in/)
  })
})

describe('rendering', () => {
  const view = { name: `<a href="x">O'Brien & co</a>` }

  it('escapes HTML in the HTML part', () => {
    expect(renderHtml('{{name}}', view)).toBe(
      '&lt;a href&#x3D;&quot;x&quot;&gt;O&#39;Brien &amp; co&lt;&#x2F;a&gt;'
    )
  })

  it('escapes nothing in the text part, with double or triple braces', () => {
    expect(renderText('{{name}} / {{{name}}}', view)).toBe(`${view.name} / ${view.name}`)
  })
})

describe('templates/README.md', () => {
  it('documents every field of the view, of an item and of a secret, and nothing else', async () => {
    const readme = await readFile(join(BUNDLED, 'README.md'), 'utf8')
    const section = (title: string) => {
      const start = readme.indexOf(title)
      const next = readme.indexOf('\n#', start + title.length)
      const text = readme.slice(start, next === -1 ? undefined : next)
      return [...text.matchAll(/^\| `(\w+)`/gm)].map(m => m[1]).sort()
    }
    const arn = 'arn:aws:secretsmanager:us-east-1:222222222222:secret:p/222222222222/u-AbCdEf'
    const p = builders.plan('enforce', [
      builders.account(builders.DEV.id, builders.DEV.name, [
        builders.user(
          'u',
          [builders.key('K1', 95)],
          [
            builders.action('ROTATE', 'K1', 'EXPIRED_ACTIVE_KEY', {
              result: 'done',
              newAccessKeyId: 'K2',
              secretArn: arn
            })
          ]
        )
      ])
    ])
    const templates = (await loadTemplates(BUNDLED, { bundledDir: BUNDLED })).templates
    const options = { sender: 's@example.com', region: 'us-east-1' }
    const [mail] = planNotifications(p, [builders.DEV], {
      ...options,
      notifyAccountEmail: true,
      reminderDays: [1],
      templates
    }).mails
    const item = mail?.items[0]
    if (!item || !item.secret) throw new Error('fixture changed')
    const view = mailView(
      p,
      { address: 'x@example.com', contactAccounts: [], asOwner: false },
      [item],
      options
    )
    expect(section('### Top level')).toEqual(Object.keys(view).sort())
    expect(section('### Items')).toEqual(Object.keys(item).sort())
    expect(section('### `secret`')).toEqual(Object.keys(item.secret).sort())
  })
})
