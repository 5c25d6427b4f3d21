import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HARNESS_TAGS, stripHarnessTags } from '../../src/session/harness-tags.js'

const reminder = (body: string) => `<system-reminder>${body}</system-reminder>`

describe('stripHarnessTags: well-formed spans', () => {
  it('removes a span that fills its lines, leaving the text around it', () => {
    expect(stripHarnessTags(`before\n${reminder('\nclock 12:00\n')}\nafter`)).toBe('before\n\nafter')
    expect(stripHarnessTags(`${reminder('x')}\nHello`)).toBe('\nHello')
    expect(stripHarnessTags(`tool output\n\n${reminder('r')}`)).toBe('tool output\n\n')
  })

  it('allows spaces, tabs or a carriage return after the close', () => {
    expect(stripHarnessTags(`a\r\n${reminder('r')} \t\r\nb`)).toBe('a\r\n \t\r\nb')
  })

  it('removes adjacent spans on one line, of the same or different tags', () => {
    expect(stripHarnessTags(`${reminder('x')}${reminder('y')}\nkeep`)).toBe('\nkeep')
    expect(
      stripHarnessTags('<command-message>clear</command-message> <command-name>/clear</command-name>\ngo'),
    ).toBe('\ngo')
  })

  it('counts nesting: an inner close does not end the outer span', () => {
    const nested = `<system-reminder>\nouter\n${reminder('inner')}\nrest\n</system-reminder>\nkeep`
    expect(stripHarnessTags(nested)).toBe('\nkeep')
  })

  it('removes other tags inside a span along with it', () => {
    expect(stripHarnessTags(`${reminder('a<status>b</status>c')}\nkeep`)).toBe('\nkeep')
  })

  it('knows the full HEAD list of 19 tags', () => {
    expect(HARNESS_TAGS).toHaveLength(19)
    for (const tag of HARNESS_TAGS) expect(stripHarnessTags(`x\n<${tag}>y</${tag}>\nz`)).toBe('x\n\nz')
  })
})

describe('stripHarnessTags: hostile prompts lose nothing', () => {
  const unchanged = (text: string) => expect(stripHarnessTags(text)).toBe(text)

  it('keeps an unclosed tag and everything after it', () => {
    unchanged('keep\n<system-reminder>truncated reminder\nand the rest of the prompt')
    unchanged('<session>\nThe conversation so far.\nWrite a title.')
  })

  it('keeps a system prompt that mentions <session> in its middle', () => {
    unchanged(
      'You are a title writer.\nThe conversation is provided inside <session> tags.\nReply with a title.',
    )
    unchanged('Rules:\n<session> tags hold the transcript.\nNever quote </session> back.\nBe brief.')
  })

  it('keeps tags mentioned in prose, even closed ones', () => {
    unchanged('Messages may include <system-reminder>hints</system-reminder> from the harness.')
    unchanged('a<system-reminder>x</system-reminder>b<system-reminder>y</system-reminder>c')
  })

  it('keeps tags in quotes and backticks', () => {
    unchanged('"<system-reminder>quoted</system-reminder>"\n')
    unchanged("'<session>x</session>'")
    unchanged('If a `<command-name>` tag appears, run `<command-name>/x</command-name>`.')
  })

  it('keeps tags inside fenced code blocks', () => {
    unchanged('Example:\n```xml\n<system-reminder>\nnot a real one\n</system-reminder>\n```\ndone')
    unchanged('~~~~\n<status>ok</status>\n~~~\nstill code\n<status>x</status>\n~~~~\n')
  })

  it('strips again after a fence closes', () => {
    expect(stripHarnessTags(`\`\`\`\n${reminder('code')}\n\`\`\`\n${reminder('real')}\nend`)).toBe(
      `\`\`\`\n${reminder('code')}\n\`\`\`\n\nend`,
    )
  })

  it('keeps a span whose close is followed by more text on its line', () => {
    unchanged('<session>foo</session> is how the transcript is wrapped.\nMore rules.')
  })

  it('keeps an outer open that never closes, while a well-formed inner span still goes', () => {
    expect(stripHarnessTags(`<system-reminder>\nouter\n${reminder('inner')}\nno outer close`)).toBe(
      '<system-reminder>\nouter\n\nno outer close',
    )
  })

  it('keeps stray close tags and unknown tags', () => {
    unchanged('<thinking>x</thinking>\n</system-reminder>\n')
  })

  it('keeps a tag that spans two blocks: each block alone has an unclosed open or a stray close', () => {
    unchanged('first block\n<system-reminder>\nbegins here')
    unchanged('ends here\n</system-reminder>\nsecond block')
  })

  it('stays linear on many unclosed tags', () => {
    const hostile = '<status>\n'.repeat(50_000)
    const started = performance.now()
    unchanged(hostile)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})

describe('stripHarnessTags: properties', () => {
  const unit = fc.constantFrom(
    'a',
    ' ',
    '\n',
    '<',
    '>',
    '/',
    '`',
    '"',
    '<session>',
    '</session>',
    reminder('r'),
  )

  it('changes nothing in a text where no line starts with a tag', () => {
    fc.assert(
      fc.property(fc.array(unit), (parts) => {
        const text = parts.join('')
        fc.pre(!/(^|\n)</.test(text))
        expect(stripHarnessTags(text)).toBe(text)
      }),
      { numRuns: 2000 },
    )
  })

  it('removes exactly the reminder that fills its own lines between arbitrary text', () => {
    const plain = fc.string({ unit: fc.constantFrom('a', ' ', '<', '>', '/', '`') })
    fc.assert(
      fc.property(plain, plain, plain, (before, body, after) => {
        fc.pre(!before.includes('```') && !/^ {0,3}`{3}/.test(before))
        expect(stripHarnessTags(`${before}\n${reminder(body)}\n${after}`)).toBe(`${before}\n\n${after}`)
      }),
      { numRuns: 2000 },
    )
  })
})
