export {
  countItems,
  mailSubject,
  mailView,
  planNotifications,
  REASON_ADVICE,
  type AccountContact,
  type Mail,
  type MailCounts,
  type MailItem,
  type MailView,
  type NotificationOptions,
  type NotificationPlan,
  type SecretLocation
} from './mails.js'
export {
  HELD_BACK_LISTED,
  heldBackNotice,
  sendingOrder,
  type HeldBackContext,
  type WithinCap
} from './held-back.js'
export { ownerDomainAllowed } from './owner-domains.js'
export {
  sendNotifications,
  type FailedMail,
  type HeldBack,
  type NotificationResult,
  type NotifyLog,
  type SendOptions,
  type SentMail,
  type UnsentMail
} from './send.js'
export {
  bundledTemplatesDir,
  loadTemplates,
  renderHtml,
  renderText,
  TEMPLATE_FILES,
  TemplateError,
  type LoadedTemplates,
  type MailTemplates,
  type TemplatePair
} from './templates.js'
export { daysUntilDue, shouldNotifyWarning, warningWindowDays } from './warning-days.js'
