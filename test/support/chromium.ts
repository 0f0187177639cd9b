import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

/** The system Chromium (Debian's `chromium` package); CHROMIUM_PATH overrides it. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium'
}

export const CHROMIUM_INSTALL_HINT =
  'Install it with `sudo apt-get update && sudo apt-get install -y chromium` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary. playwright-core downloads no browser.'

/** Quiet, offline Chromium: no sync, updates, QUIC or background requests. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

export interface MailBrowser {
  /** A new page of the given viewport width with `html` loaded; no request leaves the browser. */
  open(html: string, width: number): Promise<Page>
  /** Requests the pages tried to make (all of them aborted). */
  readonly blockedRequests: readonly string[]
  close(): Promise<void>
}

/**
 * Headless Chromium with a fresh profile in a temporary folder. Every request other than
 * about: and data: is aborted, so rendering a mail can never reach the network. Throws when
 * Chromium is missing, saying how to install it.
 */
export async function launchMailBrowser(): Promise<MailBrowser> {
  const executablePath = chromiumPath()
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}. ${CHROMIUM_INSTALL_HINT}`)
  }
  const profile = await mkdtemp(join(tmpdir(), 'mail-chromium-'))
  let context: BrowserContext
  try {
    // A persistent context is how Playwright takes a profile folder (it refuses --user-data-dir).
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ARGS,
      offline: true
    })
  } catch (error) {
    await rm(profile, { recursive: true, force: true })
    throw error
  }
  const blockedRequests: string[] = []
  await context.route('**/*', async route => {
    const url = route.request().url()
    if (url.startsWith('about:') || url.startsWith('data:')) return route.continue()
    blockedRequests.push(url)
    return route.abort('blockedbyclient')
  })
  return {
    async open(html, width) {
      const page = await context.newPage()
      await page.setViewportSize({ width, height: 800 })
      await page.setContent(html, { waitUntil: 'load' })
      return page
    },
    blockedRequests,
    async close() {
      try {
        await context.close()
      } finally {
        await rm(profile, { recursive: true, force: true })
      }
    }
  }
}

export interface Overflow {
  readonly innerWidth: number
  readonly scrollWidth: number
  /** Elements and text nodes (`#text`) whose right edge is past the viewport: tag, start of text, right edge. */
  readonly offenders: readonly { tag: string; text: string; right: number }[]
}

// Runs in the page. A string, since the project's TypeScript has no DOM types. Checks element
// boxes and, since a block's box stays inside while its unbreakable text spills out, every text
// node's own box too.
const MEASURE_OVERFLOW = `(() => {
  const innerWidth = window.innerWidth
  const offenders = []
  const check = (node, box, text) => {
    // Half a pixel of slack for sub-pixel layout.
    if (box.right > innerWidth + 0.5) {
      const tag = node.nodeType === Node.TEXT_NODE ? '#text' : node.tagName.toLowerCase()
      offenders.push({ tag, text: (text || '').replace(/\\s+/g, ' ').trim().slice(0, 80), right: Math.round(box.right) })
    }
  }
  for (const element of document.querySelectorAll('body *')) {
    check(element, element.getBoundingClientRect(), element.textContent)
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue
    const range = document.createRange()
    range.selectNodeContents(node)
    check(node, range.getBoundingClientRect(), node.textContent)
  }
  return { innerWidth, scrollWidth: document.documentElement.scrollWidth, offenders }
})()`

/** What sticks out to the right of the viewport of `page`. */
export function horizontalOverflow(page: Page): Promise<Overflow> {
  return page.evaluate<Overflow>(MEASURE_OVERFLOW)
}
