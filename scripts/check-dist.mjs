// Rebuilds dist/ and fails when it differs from what is committed: the action runs dist/, so a
// stale bundle would ship code nobody reviewed or tested.
import { execFileSync } from 'node:child_process'

const run = (command, args) =>
  execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })

run('npm', ['run', '--silent', 'build'])
const changed = run('git', ['status', '--porcelain', '--', 'dist'])
if (changed.trim() !== '') {
  console.error('dist/ is out of date with src/. Run "npm run build" and commit dist/.\n')
  console.error(changed)
  console.error(run('git', ['diff', '--stat', '--', 'dist']))
  process.exit(1)
}
console.log('dist/ is current.')
