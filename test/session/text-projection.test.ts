import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  HARNESS_TAGS,
  normalizeWhitespace,
  projectText,
  stripHarnessTags,
} from '../../src/session/text-projection.js'

describe('stripHarnessTags', () => {
  it('removes every span of every listed tag', () => {
    expect(
      stripHarnessTags('a<system-reminder>x</system-reminder>b<system-reminder>y</system-reminder>c'),
    ).toBe('abc')
    expect(
      stripHarnessTags('<command-name>/clear</command-name>go<environment_context>cwd</environment_context>'),
    ).toBe('go')
  })

  it('lets an unterminated open tag swallow the rest of the text', () => {
    expect(stripHarnessTags('keep <system-reminder>truncated reminder')).toBe('keep ')
  })

  it('leaves unknown tags and stray close tags alone', () => {
    expect(stripHarnessTags('<thinking>x</thinking></system-reminder>')).toBe(
      '<thinking>x</thinking></system-reminder>',
    )
  })

  it('ends the span at the first close tag (not greedy)', () => {
    expect(stripHarnessTags('<status>a</status>mid<status>b</status>end')).toBe('midend')
  })

  it('carries the full HEAD list of 19 tags', () => {
    expect(HARNESS_TAGS).toHaveLength(19)
    for (const tag of HARNESS_TAGS) expect(stripHarnessTags(`x<${tag}>y</${tag}>z`)).toBe('xz')
  })
})

describe('normalizeWhitespace', () => {
  it('applies the tapes rules in order', () => {
    expect(normalizeWhitespace('  a \t\r\nb\n\n\nc\n')).toBe('a\nb\nc')
  })

  it('trims like Go strings.TrimSpace, not like String.prototype.trim', () => {
    expect(normalizeWhitespace('\u0085a\u3000')).toBe('a') // NEL and ideographic space are Go spaces
    expect(normalizeWhitespace('\ufeffa\ufeff')).toBe('\ufeffa\ufeff') // BOM is not
  })

  it('keeps a lone carriage return and inner spaces', () => {
    expect(normalizeWhitespace('a  b\rc')).toBe('a  b\rc')
  })

  it('agrees with the rules written as regular expressions on any mix of Go and non-Go spaces', () => {
    const goSpace =
      '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]'
    const reference = (text: string): string =>
      text
        .replace(/\r\n/g, '\n')
        .replace(/[ \t]+\n/g, '\n')
        .replace(/\n{2,}/g, '\n')
        .replace(new RegExp(`^${goSpace}+`), '')
        .replace(new RegExp(`${goSpace}+$`), '')
    const unit = fc.constantFrom(
      'a',
      ' ',
      '\t',
      '\n',
      '\r',
      '\v',
      '\f',
      '\u0085',
      '\u00a0',
      '\u2005',
      '\u200b',
      '\u3000',
      '\ufeff',
    )
    fc.assert(
      fc.property(fc.string({ unit }), (text) => {
        expect(normalizeWhitespace(text)).toBe(reference(text))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('projectText', () => {
  it('never leaves blank lines, trailing spaces before a newline, or outer white space', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\n', '\r', '<', '>', '/') }), (text) => {
        const out = projectText(text)
        expect(out).not.toMatch(/\n\n|[ \t]\n|^[ \t\n]|[ \t\n]$/)
      }),
    )
  })

  it('ignores a reminder wherever it is placed between paragraphs', () => {
    expect(projectText('Hello\n<system-reminder>r</system-reminder>\nworld')).toBe(
      projectText('Hello\nworld'),
    )
  })
})
