import type { GitHubClient } from './client.js'
import type { RepoRef } from './sync.js'

/** Marks the dry-run comment, so every later run of the pull request updates the same one. */
export const DRY_RUN_COMMENT_MARKER = '<!-- iam-key-rotation:dry-run -->'

/** GitHub refuses comment bodies over 65,536 characters; keep room for the marker and footer. */
const COMMENT_BUDGET = 60_000

/**
 * The dry-run comment: the job summary of the audit, cut at a line to fit a comment, with a
 * link to the run where the whole plan is.
 */
export function dryRunCommentBody(summary: string, runUrl?: string): string {
  const where = runUrl ? `[the run](${runUrl})` : 'the run'
  let shown = summary
  let cut = ''
  if (shown.length > COMMENT_BUDGET) {
    shown = shown.slice(0, shown.lastIndexOf('\n', COMMENT_BUDGET) + 1)
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

export type CommentOutcome = 'created' | 'updated' | 'unchanged'

/**
 * Keeps one dry-run comment per pull request: updates the comment carrying the marker, or
 * creates it. A marked comment this token cannot edit (someone else's) is left alone.
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
  const marked = comments.filter(comment => comment.body?.startsWith(DRY_RUN_COMMENT_MARKER))
  // The workflow token comments as a bot; a person's comment quoting the marker is not ours.
  const ours = marked.find(comment => comment.user?.type === 'Bot') ?? marked[0]
  if (ours?.body === body) return 'unchanged'
  if (ours) {
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
