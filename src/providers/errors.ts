/**
 * Error bodies of every supported API, read by one loose schema: OpenAI {error:{type,code,message}},
 * Anthropic {type:'error',error:{type,message}}, Gemini {error:{status,message}} (streamed inside an
 * array), Ollama {error:"..."}, Responses stream {type:'error',code,message}.
 */
import { z } from 'zod'

const errorObject = z.looseObject({
  type: z.string().nullish(),
  status: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
  message: z.string().nullish(),
})

const errorBody = z.looseObject({
  type: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
  message: z.string().nullish(),
  error: z.union([z.string(), errorObject]).nullish(),
})

export interface ErrorInfo {
  type: string | null
  message: string | null
}

/** The error a body carries, or null when it carries none. */
export function errorFromBody(value: unknown): ErrorInfo | null {
  const first = Array.isArray(value) ? value[0] : value
  const parsed = errorBody.safeParse(first)
  if (!parsed.success) return null
  const { error } = parsed.data
  if (typeof error === 'string') return { type: null, message: error }
  if (error) {
    const type = error.type ?? error.status ?? (typeof error.code === 'string' ? error.code : null)
    return { type, message: error.message ?? null }
  }
  if (parsed.data.type === 'error') {
    const code = parsed.data.code
    return { type: typeof code === 'string' ? code : null, message: parsed.data.message ?? null }
  }
  return null
}

const MAX_TEXT_MESSAGE = 1000

/** A non-JSON error body (a proxy's HTML page, plain text): its start is the best message there is. */
export function errorFromText(text: string): ErrorInfo {
  const trimmed = text.trim()
  return { type: null, message: trimmed.length > 0 ? trimmed.slice(0, MAX_TEXT_MESSAGE) : null }
}
