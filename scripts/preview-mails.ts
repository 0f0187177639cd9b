// Renders the sample mails (audit and enforce, HTML part) in headless Chromium at a phone and a
// desktop width, as PNGs to look at: `npm run preview:mails [-- --out DIR]`.
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SAMPLE_MODES, SAMPLE_WIDTHS, sampleMail } from '../test/notify/mail-samples.js'
import { launchMailBrowser } from '../test/support/chromium.js'

const { values } = parseArgs({ options: { out: { type: 'string', default: 'mail-previews' } } })
const out = resolve(values.out)
await mkdir(out, { recursive: true })

const browser = await launchMailBrowser()
try {
  for (const mode of SAMPLE_MODES) {
    const mail = await sampleMail(mode)
    for (const width of SAMPLE_WIDTHS) {
      const page = await browser.open(mail.html, width)
      const path = join(out, `${mode}-${width}.png`)
      await page.screenshot({ path, fullPage: true })
      await page.close()
      console.log(path)
    }
  }
} finally {
  await browser.close()
}
