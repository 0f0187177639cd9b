import { describe, expect, it } from 'vitest'
import {
  DRY_RUN_COMMENT_MARKER,
  dryRunCommentBody,
  dryRunFailedBody
} from '../../src/issues/pull-request-comment.js'

describe('the dry-run comment', () => {
  it('starts with the marker and links the run', () => {
    const body = dryRunCommentBody('## Plan\n', 'https://github.example/o/r/actions/runs/1')
    expect(body.startsWith(DRY_RUN_COMMENT_MARKER)).toBe(true)
    expect(body).toContain('[the run](https://github.example/o/r/actions/runs/1)')
  })

  it('fits a comment: cut at a line, or at the budget when a line is longer', () => {
    const lines = dryRunCommentBody(`${'x'.repeat(100)}\n`.repeat(2_000))
    expect(lines.length).toBeLessThan(65_536)
    expect(lines).toContain('The plan is longer than a comment allows')
    const oneLine = dryRunCommentBody('y'.repeat(200_000))
    expect(oneLine.length).toBeLessThan(65_536)
    expect(oneLine).toContain('y'.repeat(1_000))
  })

  it('shows a failure in a code block it cannot break out of', () => {
    const body = dryRunFailedBody('bad ``` [link](https://evil.example)')
    expect(body.split('```').length - 1).toBe(2)
    expect(body).toContain("bad ''' [link]")
  })
})
