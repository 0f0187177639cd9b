// npm run demo: the action against the local AWS emulator, seeded with a sample organization.
// Builds dist/ when it is missing or older than src/, runs dist/index.js the way a GitHub runner
// does (audit mode), then prints the job summary and where the report files are.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { loadWorldFile, startEmulator } from '../test/emulator/index.js'
import { REPO_ROOT } from '../test/support/action-yml.js'
import { AMBIENT_CREDENTIALS } from '../test/support/emulated-action.js'
import { asDeployed } from '../test/support/emulator-clients.js'
import { runAction } from '../test/support/run-action.js'

/** Shows the log as the GitHub run page does: runner commands applied, not printed. */
function asRunnerShowsIt(line: string): string | undefined {
  if (line.startsWith('::add-mask::') || line.startsWith('::debug::')) return undefined
  if (line.startsWith('::endgroup::')) return undefined
  const command = /^::(group|warning|error|notice)[^:]*::(.*)$/.exec(line)
  if (!command) return line
  const text = (command[2] ?? '').replace(/%0A/g, '\n    ').replace(/%25/g, '%')
  const shown: Record<string, string> = {
    group: `\n▸ ${text}`,
    warning: `  Warning: ${text}`,
    error: `Error: ${text}`,
    notice: `  Notice: ${text}`
  }
  return shown[command[1] ?? 'notice']
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

const bundle = join(REPO_ROOT, 'dist/index.js')
if (!existsSync(bundle) || statSync(bundle).mtimeMs < newestMtime(join(REPO_ROOT, 'src'))) {
  console.log('Building dist/ …')
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' })
}

const worldPath = join(REPO_ROOT, 'examples/demo-world.json')
const reportDir = join(REPO_ROOT, 'demo-report')
// As after the documented bootstrap: the member-role StackSet exists with today's template.
const emulator = await startEmulator({ world: asDeployed(await loadWorldFile(worldPath)) })
console.log(`AWS emulator on ${emulator.url}, seeded from ${relative(REPO_ROOT, worldPath)}\n`)

try {
  const run = await runAction({
    echo: asRunnerShowsIt,
    inputs: {
      mode: 'audit',
      'organization-id': emulator.state().organization.id,
      'management-account-id': emulator.state().organization.managementAccountId,
      'sender-email': 'security@example.com',
      'report-dir': reportDir,
      'templates-dir': join(REPO_ROOT, 'templates'),
      'open-issues': 'false',
      'deploy-stacks': 'check'
    },
    env: { ...AMBIENT_CREDENTIALS, AWS_ENDPOINT_URL: emulator.url }
  })
  const line = '─'.repeat(80)
  console.log(`\n${line}\nJob summary (what GitHub shows on the run page)\n${line}\n`)
  console.log(run.summary)
  console.log(line)
  const mails = emulator.emails()
  if (mails.length > 0) {
    console.log(`${mails.length} emails sent through the emulated SES:`)
    for (const mail of mails) console.log(`  to ${mail.to.join(', ')}: ${mail.subject}`)
  }
  console.log(
    `\nReport files: ${relative(process.cwd(), reportDir) || '.'}/plan.json, plan.md, plan.csv, keys.csv`
  )
  console.log(
    `Action exit code: ${run.exitCode} (non-zero here means an account failed, as the demo intends)`
  )
} finally {
  await emulator.close()
}
