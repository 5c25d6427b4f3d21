/**
 * The read side of the store: list, show, turns, transcript, raw bodies and delete of sessions, each
 * scoped by org_id. Written against SqlSession/Driver, so the HTTP API, the page and the CLI share one
 * SQL dialect on Postgres and PGlite. Results are plain JSON-ready objects (ISO timestamps, numbers).
 */
export { type DeleteResult, deleteSession } from './delete.js'
export {
  DEFAULT_PAGE_SIZE,
  InvalidCursorError,
  type ListSessionsOptions,
  listSessions,
  MAX_PAGE_SIZE,
  SESSION_SORTS,
  type SessionPage,
  SORT_ORDERS,
} from './session-list.js'
export { getSession, type SessionDetail, type SessionRef, type SessionSummary } from './sessions.js'
export { getTranscript } from './transcript.js'
export { DEFAULT_TURNS_PAGE, getTurns, MAX_TURNS_PAGE, type TurnRecord, type TurnsOptions } from './turns.js'
