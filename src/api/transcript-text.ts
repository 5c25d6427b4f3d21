/**
 * Plain-text rendering of a Transcript for people (the API's ?format=text, the page, the CLI):
 * one header per branch, one header per message, blocks in their stored (projected) shape.
 */
import type { Transcript, TranscriptBlock, TranscriptMessage } from '../session/transcript.js'

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

function indent(text: string): string {
  return text.replace(/^/gm, '  ')
}

/** A base64 payload kept inline or as a reference (sha256 and size), said in a few words. */
function payload(block: TranscriptBlock, field: string): string | undefined {
  if (typeof block.sha256 === 'string') return `${block.bytes} bytes, sha256 ${block.sha256.slice(0, 12)}…`
  const inline = str(block[field])
  return inline === undefined ? undefined : `${Math.floor((inline.length * 3) / 4)} bytes inline`
}

/** "[kind a · b · c]" from the parts present. */
function bracket(kind: string, parts: Array<string | undefined>): string {
  return `[${[kind, ...parts.filter((p) => p !== undefined && p !== '')].join(' · ')}]`
}

const json = (value: unknown): string => JSON.stringify(value ?? {})

/** Search sources or results (a JSON list of `{url, title?}`) as one per line; other output as it is. */
function sources(output: string): string {
  if (!output.startsWith('[{')) return output
  try {
    const list: unknown = JSON.parse(output)
    if (!Array.isArray(list) || list.length === 0) return output
    const lines: string[] = []
    for (const entry of list as Array<Record<string, unknown> | null>) {
      const url = str(entry?.url)
      if (!url) return output
      const title = str(entry?.title)
      lines.push(`- ${url}${title ? ` ${title}` : ''}`)
    }
    return lines.join('\n')
  } catch {
    return output
  }
}

/** A tool call. Hosted Responses tools read as what they do; interpreter code gets its own lines. */
function renderToolUse(block: TranscriptBlock): string {
  const id = block.tool_use_id ? ` [${str(block.tool_use_id)}]` : ''
  const name = str(block.tool_name) ?? 'tool'
  const input = (block.tool_input ?? {}) as Record<string, unknown>
  switch (name) {
    case 'web_search_call': {
      const what = str(input.query) ?? str(input.url) ?? str(input.pattern) ?? json(input)
      return `→ web search${input.type ? ` (${str(input.type)})` : ''}: ${what}${id}`
    }
    case 'image_generation_call':
      return `→ image generation${input.revised_prompt ? `: ${str(input.revised_prompt)}` : ''}${id}`
    case 'code_interpreter_call':
      return `→ code interpreter${id}\n${indent(str(input.code) ?? '')}`
    case 'mcp_call':
    case 'mcp_approval_request': {
      const kind = name === 'mcp_call' ? 'mcp' : 'mcp approval request'
      return `→ ${kind} ${str(input.server_label) ?? ''}/${str(input.name) ?? ''}(${json(input.arguments)})${id}`
    }
    default:
      return `→ ${name}(${json(block.tool_input)})${id}`
  }
}

/** One block as text lines; unknown block types fall back to their JSON. */
export function renderBlock(block: TranscriptBlock): string {
  switch (block.type) {
    case 'text':
      return str(block.text) ?? ''
    case 'thinking':
      return `(thinking)\n${indent(str(block.thinking) ?? '')}`
    case 'image':
      return bracket('image', [str(block.media_type), str(block.image_url), payload(block, 'image_base64')])
    case 'document': {
      const head = bracket('document', [
        str(block.title) && `"${str(block.title)}"`,
        str(block.media_type),
        str(block.document_url),
        str(block.file_id) && `file ${str(block.file_id)}`,
        payload(block, 'document_base64'),
      ])
      const text = str(block.document_text)
      return text === undefined ? head : `${head}\n${indent(text)}`
    }
    case 'tool_use':
      return renderToolUse(block)
    case 'tool_result': {
      const head = `← result${block.tool_result_id ? ` [${str(block.tool_result_id)}]` : ''}${block.is_error ? ' (error)' : ''}`
      const parts = Array.isArray(block.content) ? (block.content as TranscriptBlock[]).map(renderBlock) : []
      const body = [sources(str(block.tool_output) ?? ''), ...parts].filter((part) => part !== '').join('\n')
      return body === '' ? head : `${head}\n${indent(body)}`
    }
    default:
      return JSON.stringify(block)
  }
}

function messageHeader(message: TranscriptMessage): string {
  const turns = [
    ...message.responseOf.map((i) => `response of turn ${i}`),
    ...message.requestOf.map((i) => `request of turn ${i}`),
  ]
  return `[${message.role}${turns.length > 0 ? ` · ${turns.join(', ')}` : ''}]`
}

export function renderMessage(message: TranscriptMessage): string {
  const body = message.contentStored ? message.blocks.map(renderBlock).join('\n') : '(content not stored)'
  return `${messageHeader(message)}\n${body}`
}

/** The whole transcript; message numbers inside a branch count from the root of its conversation. */
export function renderTranscriptText(transcript: Transcript): string {
  const out: string[] = []
  // Each message's number in its conversation, so a fork point reads "after message N".
  const numberOf = new Map<string, number>()
  for (const branch of transcript.branches) {
    const start = branch.forkAfterHash ? (numberOf.get(branch.forkAfterHash) ?? 0) + 1 : 1
    branch.messages.forEach((message, i) => {
      numberOf.set(message.hash, start + i)
    })
    const title =
      branch.forkOf === null
        ? `branch ${branch.index + 1}`
        : `branch ${branch.index + 1}: forks from branch ${branch.forkOf + 1} after message ${start - 1}`
    out.push(`=== ${title} ===`)
    if (branch.missingParentHash) out.push(`(earlier messages not stored: ${branch.missingParentHash})`)
    branch.messages.forEach((message, i) => {
      out.push(`#${start + i} ${renderMessage(message)}`, '')
    })
  }
  if (transcript.turnsWithoutMessages.length > 0) {
    out.push(`(turns without recorded messages: ${transcript.turnsWithoutMessages.join(', ')})`)
  }
  return `${out.join('\n').trimEnd()}\n`
}
