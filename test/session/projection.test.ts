import { describe, expect, it } from 'vitest'
import { projectBlocks, projectSystem, pruneZeroValues } from '../../src/session/projection.js'

describe('pruneZeroValues', () => {
  it('drops null, false, empty string, 0 and empty arrays, recursively through objects', () => {
    expect(
      pruneZeroValues({
        a: null,
        b: false,
        c: '',
        d: 0,
        e: [],
        f: 'x',
        g: { h: 0, i: true },
        j: { k: null },
      }),
    ).toEqual({ f: 'x', g: { i: true } })
  })

  it('keeps arrays whole without recursing into them', () => {
    expect(pruneZeroValues({ list: [0, '', { a: null }] })).toEqual({ list: [0, '', { a: null }] })
  })

  it('returns undefined for an input that is entirely zero', () => {
    expect(pruneZeroValues({ a: { b: false } })).toBeUndefined()
    expect(pruneZeroValues(0)).toBeUndefined()
  })
})

describe('projectBlocks', () => {
  it('drops text blocks that are empty before or after projection', () => {
    expect(
      projectBlocks([
        { type: 'text', text: '' },
        { type: 'text', text: '<system-reminder>only noise</system-reminder>\n' },
        { type: 'text', text: 'kept' },
      ]),
    ).toEqual([{ type: 'text', text: 'kept', is_error: false }])
  })

  it('never hashes a thinking signature and drops blank thinking', () => {
    expect(
      projectBlocks([
        { type: 'thinking', text: '', signature: 'sig' },
        { type: 'thinking', text: 'plan', signature: 'sig' },
        { type: 'thinking', text: 'plan' },
      ]),
    ).toEqual([
      { type: 'thinking', thinking: 'plan', is_error: false },
      { type: 'thinking', thinking: 'plan', is_error: false },
    ])
  })

  it('omits an empty tool input and empty ids', () => {
    expect(projectBlocks([{ type: 'tool_use', id: '', name: 'Now', input: { verbose: false } }])).toEqual([
      { type: 'tool_use', tool_name: 'Now', is_error: false },
    ])
  })

  it('projects tool result output and keeps is_error, even when the output empties', () => {
    expect(
      projectBlocks([
        {
          type: 'tool_result',
          toolUseId: 't1',
          output: '<system-reminder>x</system-reminder>',
          isError: true,
        },
        {
          type: 'tool_result',
          toolUseId: 't2',
          output: [
            { type: 'text', text: 'a' },
            { type: 'image', mediaType: 'image/png', data: 'AAAA' },
          ],
          isError: false,
        },
      ]),
    ).toEqual([
      { type: 'tool_result', tool_result_id: 't1', is_error: true },
      {
        type: 'tool_result',
        tool_result_id: 't2',
        tool_output: 'a',
        content: [{ type: 'image', image_base64: 'AAAA', media_type: 'image/png', is_error: false }],
        is_error: false,
      },
    ])
  })

  it('leaves no undefined-valued keys in the hashed objects', () => {
    const [image] = projectBlocks([{ type: 'image', url: 'https://x/y.png' }])
    expect(Object.keys(image!)).toEqual(['type', 'image_url', 'is_error'])
  })
})

describe('projectSystem', () => {
  it('leaves out the billing attribution block only', () => {
    expect(
      projectSystem([
        { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.219.76b;' },
        { type: 'text', text: 'You are an agent. x-anthropic-billing-header: stays inside other text' },
      ]),
    ).toEqual([
      {
        type: 'text',
        text: 'You are an agent. x-anthropic-billing-header: stays inside other text',
        is_error: false,
      },
    ])
  })
})
