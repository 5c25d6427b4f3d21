import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizeWhitespace, projectText } from '../../src/session/text-projection.js'

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

  it('keeps a system prompt whole when it mentions a harness tag mid-prompt', () => {
    const prompt = 'Summaries are provided inside <session> tags.\nAlways answer in English.\nBe brief.'
    expect(projectText(prompt)).toBe(prompt)
  })

  it('ignores a reminder wherever it is placed between paragraphs', () => {
    expect(projectText('Hello\n<system-reminder>r</system-reminder>\nworld')).toBe(
      projectText('Hello\nworld'),
    )
  })
})
