/** How blocks read as text: documents and images say what they are, never dump their bytes. */
import { describe, expect, it } from 'vitest'
import { renderBlock } from '../../src/api/transcript-text.js'

describe('renderBlock', () => {
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
