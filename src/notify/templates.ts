import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Mustache from 'mustache'
import type { Mode } from '../inputs.js'
import { errorMessage } from '../util/errors.js'

/** The files of a templates folder: one HTML and one text part per mode. */
export const TEMPLATE_FILES = {
  audit: { html: 'audit.html.mustache', text: 'audit.txt.mustache' },
  enforce: { html: 'enforce.html.mustache', text: 'enforce.txt.mustache' }
} as const satisfies Record<Mode, { html: string; text: string }>

export interface TemplatePair {
  readonly html: string
  readonly text: string
}

export type MailTemplates = Readonly<Record<Mode, TemplatePair>>

export interface LoadedTemplates {
  readonly templates: MailTemplates
  /** Absolute path each template file was read from. */
  readonly sources: Readonly<Record<string, string>>
  /** Degraded but usable outcomes, e.g. a configured folder that does not exist. */
  readonly warnings: readonly string[]
}

export class TemplateError extends Error {
  override name = 'TemplateError'
}

/**
 * The templates shipped with the action, `templates/` at the action's root. Pass the
 * `import.meta.url` of a module one folder below the root (src/main.ts, or dist/index.js once
 * bundled). Takes the URL as a parameter on purpose: the bundler rewrites a literal
 * `new URL('…', import.meta.url)` into an asset import, which breaks for a folder.
 */
export function bundledTemplatesDir(moduleUrl: string): string {
  return fileURLToPath(new URL('../templates/', moduleUrl))
}

/**
 * Reads the four templates. Each file is taken from `dir` when it is there, else from
 * `bundledDir`, so a repository may override just one part, or have no templates folder at
 * all. A folder the user named explicitly (`warnWhenMissing`) that does not exist is a warning.
 * Templates are parsed once here so a syntax error names its file before any mail is built.
 */
export async function loadTemplates(
  dir: string,
  options: { readonly bundledDir: string; readonly warnWhenMissing?: boolean }
): Promise<LoadedTemplates> {
  const warnings: string[] = []
  const dirExists = await isDirectory(dir)
  if (!dirExists && options.warnWhenMissing) {
    warnings.push(
      `templates-dir "${dir}" does not exist; the email templates bundled with the action are used.`
    )
  }
  const sources: Record<string, string> = {}
  const read = async (file: string): Promise<string> => {
    const candidates = [...(dirExists ? [join(dir, file)] : []), join(options.bundledDir, file)]
    for (const path of candidates) {
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (error) {
        if (isNotFound(error)) continue
        throw new TemplateError(`Cannot read email template ${path}: ${errorMessage(error)}`)
      }
      try {
        Mustache.parse(text)
      } catch (error) {
        throw new TemplateError(
          `Email template ${path} is not valid mustache: ${errorMessage(error)}`
        )
      }
      sources[file] = path
      return text
    }
    throw new TemplateError(
      `Email template ${file} is neither in ${dir} nor in the action's bundled templates (${options.bundledDir}).`
    )
  }
  const pair = async (mode: Mode): Promise<TemplatePair> => ({
    html: await read(TEMPLATE_FILES[mode].html),
    text: await read(TEMPLATE_FILES[mode].text)
  })
  const templates: MailTemplates = { audit: await pair('audit'), enforce: await pair('enforce') }
  return { templates, sources, warnings }
}

/** HTML part: `{{ }}` escapes every value. */
export function renderHtml(template: string, view: object): string {
  return Mustache.render(template, view)
}

/** Text part: nothing is HTML-escaped, so `{{ }}` and `{{{ }}}` both give the value as is. */
export function renderText(template: string, view: object): string {
  return Mustache.render(template, view, undefined, { escape: (value: string) => value })
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'EISDIR')
  )
}
