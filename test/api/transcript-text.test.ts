/** The text rendering of stored (projected) blocks: hosted tool calls, results, images and documents by what they are, never their bytes. */
import { describe, expect, it } from 'vitest'
import { renderBlock } from '../../src/api/transcript-text.js'
import type { ContentBlock } from '../../src/providers/index.js'
import { projectBlocks } from '../../src/session/projection.js'
import type { TranscriptBlock } from '../../src/session/transcript.js'

const render = (...blocks: ContentBlock[]): string =>
  projectBlocks(blocks)
    .map((b) => renderBlock(b as unknown as TranscriptBlock))
    .join('\n')

describe('renderBlock', () => {
  it('reads hosted Responses tool calls as what they do', () => {
    expect(
      render(
        {
          type: 'tool_use',
          id: 'ws_1',
          name: 'web_search_call',
          input: { type: 'search', query: 'tram 28' },
        },
        { type: 'tool_use', id: 'ci_1', name: 'code_interpreter_call', input: { code: 'x = 1\nprint(x)' } },
        { type: 'tool_result', toolUseId: 'ci_1', output: [{ type: 'text', text: '1\n' }], isError: false },
        {
          type: 'tool_use',
          id: 'mcp_1',
          name: 'mcp_call',
          input: { server_label: 'transit', name: 'next', arguments: { stop: 'A' } },
        },
        { type: 'tool_result', toolUseId: 'mcp_1', output: 'server down', isError: true },
        { type: 'tool_use', id: 'call_1', name: 'shell', input: { cmd: 'ls' } },
        {
          type: 'tool_result',
          toolUseId: 'ws_1',
          output: '[{"type":"url","url":"https://a.test/"},{"url":"https://b.test/","title":"B"}]',
          isError: false,
        },
        { type: 'tool_result', toolUseId: 'x', output: '[{"name":"t"}]', isError: false },
        {
          type: 'tool_use',
          id: 'ig_1',
          name: 'image_generation_call',
          input: { revised_prompt: 'A tram', size: 'auto' },
        },
      ),
    ).toBe(
      [
        '→ web search (search): tram 28 [ws_1]',
        '→ code interpreter [ci_1]',
        '  x = 1',
        '  print(x)',
        '← result [ci_1]',
        '  1',
        '→ mcp transit/next({"stop":"A"}) [mcp_1]',
        '← result [mcp_1] (error)',
        '  server down',
        '→ shell({"cmd":"ls"}) [call_1]',
        '← result [ws_1]',
        '  - https://a.test/',
        '  - https://b.test/ B',
        '← result [x]',
        '  [{"name":"t"}]',
        '→ image generation: A tram [ig_1]',
      ].join('\n'),
    )
  })

  it('shows a large image by its reference, a small one by its size, and a document by its title and text', () => {
    const big = Buffer.alloc(9000, 7).toString('base64')
    expect(
      render(
        { type: 'image', mediaType: 'image/png', data: big },
        { type: 'image', mediaType: 'image/png', data: 'iVBORw0K' },
        { type: 'document', mediaType: 'text/plain', text: 'plain words', title: 'Notes' },
      ),
    ).toMatch(
      /^\[image · image\/png · 9000 bytes, sha256 [0-9a-f]{12}…\]\n\[image · image\/png · 6 bytes inline\]\n\[document · "Notes" · text\/plain\]\n {2}plain words$/,
    )
  })

  it('prints a text document with its title and its text indented', () => {
    const block = {
      type: 'document',
      title: 'notes.txt',
      media_type: 'text/plain',
      document_text: 'line 1\nline 2',
    }
    expect(renderBlock(block)).toBe('[document · "notes.txt" · text/plain]\n  line 1\n  line 2')
  })

  it('names a large payload by size and hash, a small one by its decoded size, and a URL or file id as is', () => {
    const referenced = {
      type: 'document',
      media_type: 'application/pdf',
      sha256: 'ab'.repeat(32),
      bytes: 120_000,
    }
    expect(renderBlock(referenced)).toBe('[document · application/pdf · 120000 bytes, sha256 abababababab…]')
    expect(renderBlock({ type: 'image', media_type: 'image/png', image_base64: 'AAAA' })).toBe(
      '[image · image/png · 3 bytes inline]',
    )
    expect(renderBlock({ type: 'document', document_url: 'https://x/a.pdf' })).toBe(
      '[document · https://x/a.pdf]',
    )
    expect(renderBlock({ type: 'document', file_id: 'file_1' })).toBe('[document · file file_1]')
  })

  it('falls back to the JSON of a block it does not know', () => {
    expect(renderBlock({ type: 'hologram', x: 1 })).toBe('{"type":"hologram","x":1}')
  })
})
