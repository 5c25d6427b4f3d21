/**
 * `sessiontap sessions ...` run in-process against embedded PGlite databases in temp dirs: tables and
 * --json, org scoping, export → import into another database, refusals and usage errors.
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/run.js'
import { NIL_ORG } from '../../src/session/turn.js'
import { openStore } from '../../src/store/store.js'
import { at, chain, makeTurn, rawBodies } from '../store/turn-factory.js'

const OTHER_ORG = randomUUID()
const RAW_REQUEST = '{"system":"Summaries go inside <session> tags.","messages":[]}'
const RAW_RESPONSE = '{"content":[{"type":"text","text":"fixed it"}]}'
const dirs: string[] = []
let sourceDir: string
let sessionId: string

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-cli-'))
  dirs.push(dir)
  return dir
}

async function sessiontap(dataDir: string, ...argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await run(
    ['sessions', ...argv],
    { SESSIONTAP_DATA_DIR: dataDir },
    (s) => out.push(s),
    (s) => err.push(s),
  )
  return { code, out: out.join('\n'), err: err.join('\n') }
}

beforeAll(async () => {
  sourceDir = tempDir()
  const store = await openStore({ dataDir: sourceDir })
  try {
    for (let i = 0; i < 2; i++) {
      const nodes = chain(
        ['please fix the parser', 'looking at parser.ts', 'thanks', 'fixed it'].slice(0, 2 * i + 2),
      )
      const result = await store.ingest(
        makeTurn({
          envelope: { orgId: NIL_ORG, harnessSessionId: 'cli-1' },
          startedAt: at(i),
          nodes,
          ...(i === 1 ? { rawBodies: rawBodies(RAW_REQUEST, RAW_RESPONSE) } : {}),
        }),
      )
      sessionId = result.sessionId
    }
    await store.ingest(makeTurn({ envelope: { orgId: OTHER_ORG, harnessSessionId: 'elsewhere' } }))
  } finally {
    await store.close()
  }
})
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

describe('sessiontap sessions', () => {
  it('lists the nil org by default as a table, another org with --org, and JSON with --json', async () => {
    const table = await sessiontap(sourceDir, 'list')
    expect(table.code).toBe(0)
    const [header, row, ...rest] = table.out.split('\n')
    expect(header).toMatch(/^ID\s+HARNESS\s+SESSION\s+NAME\s+STATUS\s+TURNS\s+TOKENS IN\s+TOKENS OUT\s+COST/)
    expect(row).toContain(sessionId)
    expect(row).toMatch(/claude-code\s+cli-1\s+fix the bug\s+active\s+2\s+200\s+40\s+\$0\.0030/)
    expect(rest).toEqual([])

    const other = await sessiontap(sourceDir, 'list', '--json', '--org', OTHER_ORG)
    const page = JSON.parse(other.out) as { sessions: Array<{ harnessSessionId: string }> }
    expect(page.sessions.map((s) => s.harnessSessionId)).toEqual(['elsewhere'])
  })

  it('shows a session and its transcript, for people and as JSON', async () => {
    const shown = await sessiontap(sourceDir, 'show', sessionId)
    expect(shown.code).toBe(0)
    expect(shown.out).toMatch(new RegExp(`^id:\\s+${sessionId}$`, 'm'))
    expect(shown.out).toMatch(/^turns:\s+2 \(0 errors\)$/m)
    const detail = JSON.parse((await sessiontap(sourceDir, 'show', '--json', sessionId)).out)
    expect(detail).toMatchObject({ id: sessionId, turnCount: 2, harnessSessionId: 'cli-1' })

    const transcript = await sessiontap(sourceDir, 'transcript', sessionId)
    expect(transcript.out).toContain('please fix the parser')
    expect(transcript.out).toContain('fixed it')
    const json = JSON.parse((await sessiontap(sourceDir, 'transcript', sessionId, '--json')).out)
    expect(json.branches[0].messages).toHaveLength(4)

    const elsewhere = await sessiontap(sourceDir, 'show', sessionId, '--org', OTHER_ORG)
    expect(elsewhere).toMatchObject({
      code: 1,
      err: expect.stringContaining(`no session ${sessionId} in org`),
    })
  })

  it('exports to a file that imports into another database exactly once, and refuses a tampered file', async () => {
    const file = path.join(tempDir(), 'session.json')
    const exported = await sessiontap(sourceDir, 'export', sessionId, '--output', file)
    expect(exported.out).toBe(`exported session ${sessionId} (2 turns, 4 nodes) to ${file}`)

    const targetDir = tempDir()
    const imported = await sessiontap(targetDir, 'import', file)
    expect(imported).toMatchObject({
      code: 0,
      out: `imported session ${sessionId} into org ${NIL_ORG}: 2 turns (1 with raw bodies), 4 new nodes`,
    })
    const again = await sessiontap(targetDir, 'import', file, '--json')
    expect(JSON.parse(again.out)).toMatchObject({ status: 'already_present', turnsInserted: 0 })
    expect((await sessiontap(targetDir, 'show', sessionId)).out).toBe(
      (await sessiontap(sourceDir, 'show', sessionId)).out,
    )

    const tampered = path.join(tempDir(), 'tampered.json')
    fs.writeFileSync(tampered, fs.readFileSync(file, 'utf8').replace('please fix', 'please fiX'))
    const refused = await sessiontap(tempDir(), 'import', tampered)
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(
      /^sessiontap sessions import: checksum mismatch: the file was changed or damaged after export/,
    )
  })

  it('prints the raw bodies of a turn by turn index or turn id, and says when there are none', async () => {
    const shown = await sessiontap(sourceDir, 'raw', sessionId, '1')
    expect(shown.code).toBe(0)
    expect(shown.out).toBe(
      `--- request (${RAW_REQUEST.length} bytes)\n${RAW_REQUEST}\n--- response (${RAW_RESPONSE.length} bytes)\n${RAW_RESPONSE}`,
    )
    const json = JSON.parse((await sessiontap(sourceDir, 'raw', '--json', sessionId, '1')).out)
    expect(json.raw.request).toEqual({ text: RAW_REQUEST, size: RAW_REQUEST.length, truncated: false })
    const byId = JSON.parse((await sessiontap(sourceDir, 'raw', '--json', sessionId, json.turnId)).out)
    expect(byId).toEqual(json)
    const none = await sessiontap(sourceDir, 'raw', sessionId, '0')
    expect([none.code, none.err]).toEqual([
      1,
      expect.stringContaining('no raw bodies were stored for turn 0'),
    ])
    expect((await sessiontap(sourceDir, 'raw', sessionId, '7')).code).toBe(1)
    expect((await sessiontap(sourceDir, 'raw', sessionId, 'first')).code).toBe(2)
    expect((await sessiontap(sourceDir, 'raw', sessionId)).code).toBe(2)
  })

  it('deletes only with --yes', async () => {
    const dataDir = tempDir()
    const file = path.join(dataDir, 'copy.json')
    await sessiontap(sourceDir, 'export', sessionId, '--output', file)
    await sessiontap(dataDir, 'import', file)
    expect((await sessiontap(dataDir, 'delete', sessionId)).code).toBe(2)
    const deleted = await sessiontap(dataDir, 'delete', sessionId, '--yes', '--json')
    expect(JSON.parse(deleted.out)).toMatchObject({ sessionId, turnsDeleted: 2, nodesDeleted: 4 })
    expect((await sessiontap(dataDir, 'show', sessionId)).code).toBe(1)
  })

  it('answers a missing or unknown subcommand, argument or flag with exit 2 and one line', async () => {
    const bare = await sessiontap(sourceDir)
    expect(bare).toMatchObject({
      code: 2,
      err: expect.stringContaining('sessiontap sessions <command> [flags]'),
    })
    for (const [argv, line] of [
      [['frobnicate'], 'sessiontap: unknown command "sessions frobnicate"; see sessiontap sessions --help'],
      [
        ['lst'],
        'sessiontap: unknown command "sessions lst" (did you mean "sessions list"?); see sessiontap sessions --help',
      ],
      [['show'], 'sessiontap sessions show: missing <session-id>; see sessiontap sessions show --help'],
      [
        ['list', 'extra'],
        'sessiontap sessions list: unexpected argument "extra"; see sessiontap sessions list --help',
      ],
      [
        ['show', sessionId, '--limit', '5'],
        'sessiontap sessions show: unknown option --limit; see sessiontap sessions show --help',
      ],
      [
        ['list', '--jsn'],
        'sessiontap sessions list: unknown option --jsn (did you mean --json?); see sessiontap sessions list --help',
      ],
    ] as const) {
      expect(await sessiontap(sourceDir, ...argv)).toEqual({ code: 2, out: '', err: line })
    }
    expect((await sessiontap(sourceDir, 'list', '--org', 'not-a-uuid')).err).toMatch(
      /invalid --org="not-a-uuid": a UUID/,
    )
  })

  it('says how to read while another process (a running serve) holds the embedded database', async () => {
    const dataDir = tempDir()
    // A live process that is not this one owns the lock, as a running `sessiontap serve` would.
    fs.writeFileSync(path.join(dataDir, 'sessiontap.lock'), `${process.ppid}\n`)
    const locked = await sessiontap(dataDir, 'list')
    expect(locked.code).toBe(1)
    expect(locked.err).toMatch(
      new RegExp(
        `^sessiontap sessions list: data directory ${dataDir} is in use by process ${process.ppid} .*read through its API or page \\(SESSIONTAP_API_TOKENS\\)`,
      ),
    )
    expect(locked.err).not.toContain('\n')
  })
})
