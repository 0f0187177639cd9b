// Preloaded into the action's process by bench/scale.ts (NODE_OPTIONS="--import …"), so the
// measured process is exactly dist/index.js as a runner starts it. Plain JavaScript on purpose:
// the action process must not load tsx, which would add its own memory to the figures.
//
// Samples memory once a second and, as the process exits, writes the peak figures to the file
// named by BENCH_MEMORY_FILE: VmHWM (the kernel's resident-set high-water mark, which catches
// peaks between samples), getrusage's maxRSS, the peak V8 heap seen, CPU time and the samples.
// With BENCH_HEAP_SNAPSHOT_FILE set, SIGUSR2 writes a heap snapshot there.
import { readFileSync, writeFileSync } from 'node:fs'
import { writeHeapSnapshot } from 'node:v8'

const file = process.env.BENCH_MEMORY_FILE

if (file) {
  const started = performance.now()
  const samples = []
  let peakHeapUsed = 0
  const sample = () => {
    const { rss, heapUsed } = process.memoryUsage()
    peakHeapUsed = Math.max(peakHeapUsed, heapUsed)
    samples.push([Math.round(performance.now() - started), rss, heapUsed])
  }
  setInterval(sample, 1000).unref()
  // So the benchmark can ask for a heap snapshot mid-run (SIGUSR2), e.g. near the end of the scan.
  writeFileSync(`${file}.pid`, String(process.pid))
  const snapshotFile = process.env.BENCH_HEAP_SNAPSHOT_FILE
  if (snapshotFile) process.on('SIGUSR2', () => writeHeapSnapshot(snapshotFile))
  process.on('exit', () => {
    sample()
    let vmHwmKb
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
      vmHwmKb = match ? Number(match[1]) : undefined
    } catch {
      vmHwmKb = undefined
    }
    const usage = process.resourceUsage()
    writeFileSync(
      file,
      JSON.stringify({
        vmHwmKb,
        maxRssKb: usage.maxRSS,
        userCpuUs: usage.userCPUTime,
        systemCpuUs: usage.systemCPUTime,
        peakHeapUsed,
        samples
      })
    )
  })
}
