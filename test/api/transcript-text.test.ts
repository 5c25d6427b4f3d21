/** The text rendering of stored (projected) blocks: hosted tool calls, results, images by reference. */
import { describe, expect, it } from 'vitest'
import { renderBlock } from '../../src/api/transcript-text.js'
import type { ContentBlock } from '../../src/providers/index.js'
import { projectBlocks } from '../../src/session/projection.js'
import type { TranscriptBlock } from '../../src/store/queries.js'

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
      /^\[image image\/png 9000 bytes sha256:[0-9a-f]{12}\]\n\[image image\/png 8 base64 chars\]\n\[document Notes text\/plain\]\n {2}plain words$/,
    )
  })
})
