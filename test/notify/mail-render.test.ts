import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Mail } from '../../src/notify/mails.js'
import { horizontalOverflow, launchMailBrowser, type MailBrowser } from '../support/chromium.js'
import { HOSTILE, HOSTILE_MARKUP, SAMPLE_MODES, SAMPLE_WIDTHS, sampleMail } from './mail-samples.js'

// The HTML part as a phone (420 px) and a desktop mail client (900 px) show it, in a real
// browser: nothing may stick out to the right, however long the names are. Chromium is a test
// requirement (see README, Development): without it this suite fails, it does not skip.

let launched: MailBrowser | Error
const mails = new Map<string, Mail>()

beforeAll(async () => {
  // Kept and thrown by each test, so that every one of them fails (and is counted as failed)
  // with the message that says how to install Chromium.
  launched = await launchMailBrowser().catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error))
  )
  for (const mode of SAMPLE_MODES) mails.set(mode, await sampleMail(mode))
})

afterAll(async () => {
  if (!(launched instanceof Error)) await launched.close()
})

function browser(): MailBrowser {
  if (launched instanceof Error) throw launched
  return launched
}

function html(mode: string): string {
  const mail = mails.get(mode)
  if (!mail) throw new Error(`no ${mode} sample mail`)
  return mail.html
}

describe('mail HTML in headless Chromium', () => {
  for (const mode of SAMPLE_MODES) {
    for (const width of SAMPLE_WIDTHS) {
      it(`${mode} mail has no horizontal overflow at ${width} px`, async () => {
        const page = await browser().open(html(mode), width)
        try {
          const overflow = await horizontalOverflow(page)
          expect(overflow.innerWidth).toBe(width)
          expect(overflow.offenders, 'elements past the right edge').toEqual([])
          expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.innerWidth)
        } finally {
          await page.close()
        }
      })
    }

    it(`${mode} mail shows the hostile names as text, never as markup`, async () => {
      const page = await browser().open(html(mode), 420)
      try {
        expect(await page.locator('img, script, b').count()).toBe(0)
        const text = await page.locator('body').innerText()
        expect(text).toContain(HOSTILE.accountName)
        expect(text).toContain(HOSTILE.userName)
        if (mode === 'enforce') expect(text).toContain(HOSTILE_MARKUP)
      } finally {
        await page.close()
      }
    })

    it(`${mode} mail starts every item with what to do, in the order of the items`, async () => {
      const page = await browser().open(html(mode), 420)
      try {
        const items = mails.get(mode)?.items ?? []
        expect(await page.locator('.item').count()).toBe(items.length)
        // Right under the small action label: the todo, in large bold type.
        const todos = page.locator('.item > p.todo:nth-of-type(2)')
        expect(await todos.allInnerTexts()).toEqual(items.map(item => item.todo))
        const style = await page.evaluate<{ size: string; weight: string }>(
          `(() => { const s = getComputedStyle(document.querySelector('.item > p.todo')); return { size: s.fontSize, weight: s.fontWeight } })()`
        )
        expect(style).toEqual({ size: '18px', weight: '700' })
      } finally {
        await page.close()
      }
    })
  }

  it('the overflow check sees a line that does not wrap (negative control)', async () => {
    const page = await browser().open(
      `<p style="white-space: nowrap">${'a few words '.repeat(60)}</p><p>${'x'.repeat(200)}</p>`,
      420
    )
    try {
      const overflow = await horizontalOverflow(page)
      expect(overflow.scrollWidth).toBeGreaterThan(overflow.innerWidth)
      expect(overflow.offenders.map(offender => offender.tag)).toEqual(['#text', '#text'])
    } finally {
      await page.close()
    }
  })

  it('no page made a network request', () => {
    expect(browser().blockedRequests).toEqual([])
  })
})
