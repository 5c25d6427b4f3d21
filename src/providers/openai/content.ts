/**
 * Content parts shared by OpenAI's two APIs (Chat Completions and Responses): text, refusal and
 * image parts in their request and response spellings, mapped to normalized blocks.
 */
import { z } from 'zod'
import type { ContentBlock } from '../types.js'

export const openAiPart = z.looseObject({
  type: z.string(),
  text: z.string().nullish(),
  refusal: z.string().nullish(),
  /** Chat: {url}; Responses: a plain string. */
  image_url: z.union([z.string(), z.looseObject({ url: z.string() })]).nullish(),
  file_id: z.string().nullish(),
})
export type OpenAiPart = z.infer<typeof openAiPart>

export const openAiContent = z.union([z.string(), z.array(openAiPart)]).nullish()

/** A `data:` URL becomes inline data with its media type; anything else stays a URL. */
export function imageFromUrl(url: string): ContentBlock {
  const match = /^data:([^;,]+)?(?:;[^,]*)?,/.exec(url)
  if (!match) return { type: 'image', url }
  return {
    type: 'image',
    ...(match[1] ? { mediaType: match[1] } : {}),
    data: url.slice(match[0].length),
  }
}

function partToBlock(part: OpenAiPart): ContentBlock | null {
  if (typeof part.text === 'string') return { type: 'text', text: part.text }
  if (typeof part.refusal === 'string') return { type: 'text', text: part.refusal }
  if (part.image_url)
    return imageFromUrl(typeof part.image_url === 'string' ? part.image_url : part.image_url.url)
  if (part.type === 'input_image' && part.file_id) return { type: 'image', url: `file:${part.file_id}` }
  return null // audio and file parts carry nothing the normalized form holds
}

export function openAiContentToBlocks(content: z.infer<typeof openAiContent>): ContentBlock[] {
  if (content == null) return []
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  const blocks: ContentBlock[] = []
  for (const part of content) {
    const block = partToBlock(part)
    if (block) blocks.push(block)
  }
  return blocks
}
