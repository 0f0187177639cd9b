import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { connect, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createServer } from 'node:tls'
import { testTempDir } from './temp-dirs.js'

export interface TestCertificate {
  readonly key: string
  readonly cert: string
  /** The certificate as a PEM file, for NODE_EXTRA_CA_CERTS. */
  readonly certPath: string
}

let made: TestCertificate | undefined

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made by the openssl CLI once per test process (no
 * key is kept in the repository) and valid for two days.
 */
export function testCertificate(): TestCertificate {
  // The folder goes when the test file is done (temp-dirs.ts); a later file makes a new one.
  if (made && existsSync(made.certPath)) return made
  const dir = testTempDir('key-rotation-tls-')
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=127.0.0.1'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']
    ],
    { stdio: 'ignore' }
  )
  made = { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath }
  return made
}

export interface TlsFront {
  /** https://127.0.0.1:port */
  readonly url: string
  readonly port: number
  /** TLS connections accepted so far. */
  readonly connections: () => number
  close(): Promise<void>
}

/** Serves a loopback http:// server (the emulator, the fake GitHub) as https:// too. */
export async function startTlsFront(targetPort: number): Promise<TlsFront> {
  const { key, cert } = testCertificate()
  let connections = 0
  const open = new Set<{ destroy(): void }>()
  const server = createServer({ key, cert }, socket => {
    connections++
    const upstream = connect(targetPort, '127.0.0.1')
    for (const end of [socket, upstream]) {
      open.add(end)
      end.once('close', () => open.delete(end))
    }
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>(resolve => {
        for (const socket of open) socket.destroy()
        server.close(() => resolve())
      })
  }
}
