/**
 * Runs the emulator until interrupted:
 *   node --import tsx test/emulator/cli.ts --world examples/demo-world.json [--port 4566]
 */
import { parseArgs } from 'node:util'
import { startEmulator } from './server.js'
import { loadWorldFile, type World } from './world.js'

const USAGE = 'usage: node --import tsx test/emulator/cli.ts [--world FILE] [--port N]'

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      world: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a port number\n${USAGE}`)
  }
  const world: World | undefined =
    values.world === undefined ? undefined : await loadWorldFile(values.world)
  const emulator = await startEmulator({ ...(world && { world }), port })
  const accounts = emulator.state().accounts.length
  const source = values.world === undefined ? 'empty organization' : values.world
  console.log(
    `AWS emulator on ${emulator.url}: ${source}, ${accounts} account${accounts === 1 ? '' : 's'}; inspect at ${emulator.url}/_emulator/state`
  )
  console.log(
    `export AWS_ENDPOINT_URL=${emulator.url} AWS_ACCESS_KEY_ID=AKIDEMULATORAMBIENT AWS_SECRET_ACCESS_KEY=emulator AWS_REGION=us-east-1`
  )
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
