import type { GitHubClient } from './client.js'
import type { RepoRef } from './sync.js'

/** Marks the dry-run comment, so every later run of the pull request updates the same one. */
export const DRY_RUN_COMMENT_MARKER = '<!-- iam-key-rotation:dry-run -->'

/** The author of the workflow token's comments. */
const BOT_LOGIN = 'github-actions[bot]'

/**
 * GitHub refuses comment bodies over 65,536 characters; keep room for the marker and footer.
 * Render the summary within it (`summaryMarkdown(plan, COMMENT_BUDGET)`): that cut falls between
 * whole lines and account blocks, never inside a fold or a code block.
 */
export const COMMENT_BUDGET = 60_000

/**
 * The dry-run comment: the job summary of the audit, cut at a line should it still not fit a
 * comment, with a link to the run where the whole plan is.
 */
export function dryRunCommentBody(summary: string, runUrl?: string): string {
  const where = runUrl ? `[the run](${runUrl})` : 'the run'
  let shown = summary
  let cut = ''
  if (shown.length > COMMENT_BUDGET) {
    // At the last line break that fits, or at the budget when there is none.
    const end = shown.lastIndexOf('\n', COMMENT_BUDGET)
    shown = shown.slice(0, end > 0 ? end + 1 : COMMENT_BUDGET)
    cut = `\n_The plan is longer than a comment allows: the rest is in the job summary and the report artifact of ${where}._\n`
  }
  return [
    DRY_RUN_COMMENT_MARKER,
    '**Dry run of this pull request** (audit mode, read-only roles: nothing was changed, no mail sent, no issue opened). ' +
      `It shows what the proposed configuration would do today; see ${where}.`,
    '',
    shown.trimEnd(),
    cut
  ].join('\n')
}

/** The comment after a dry run that failed before it had a plan. */
export function dryRunFailedBody(message: string, runUrl?: string): string {
  const where = runUrl ? `[the run](${runUrl})` : 'the run'
  return [
    DRY_RUN_COMMENT_MARKER,
    `**Dry run of this pull request failed**; see ${where}.`,
    '',
    '```text',
    message.slice(0, COMMENT_BUDGET).replaceAll('```', "'''"),
    '```',
    ''
  ].join('\n')
}

export type CommentOutcome = 'created' | 'updated' | 'unchanged'

/**
 * Keeps one dry-run comment per pull request: updates the bot's comment carrying the marker, or
 * creates it. A person's comment quoting the marker is never taken over: whoever wrote it could
 * later edit it to show another result.
 */
export async function upsertDryRunComment(
  octokit: GitHubClient,
  repo: RepoRef,
  pullNumber: number,
  body: string
): Promise<CommentOutcome> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...repo,
    issue_number: pullNumber,
    per_page: 100
  })
  // The workflow token's own comments first; another app's bot comment cannot be edited (403)
  // and is passed over.
  const marked = comments
    .filter(c => c.user?.type === 'Bot' && c.body?.startsWith(DRY_RUN_COMMENT_MARKER))
    .sort((a, b) => Number(b.user?.login === BOT_LOGIN) - Number(a.user?.login === BOT_LOGIN))
  for (const ours of marked) {
    if (ours.body === body) return 'unchanged'
    try {
      await octokit.rest.issues.updateComment({ ...repo, comment_id: ours.id, body })
      return 'updated'
    } catch (error) {
      const status = (error as { status?: unknown }).status
      if (status !== 403 && status !== 404) throw error
    }
  }
  await octokit.rest.issues.createComment({ ...repo, issue_number: pullNumber, body })
  return 'created'
}
