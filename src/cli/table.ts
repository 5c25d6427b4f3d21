/** Plain-text tables for people at a terminal: one header row, columns padded to their widest cell. */

export interface Column<T> {
  header: string
  value: (row: T) => string
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right'
}

export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)))
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => line[i]!.length)),
  )
  const line = (values: string[]) =>
    values
      .map((value, i) =>
        columns[i]!.align === 'right' ? value.padStart(widths[i]!) : value.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd()
  return [line(columns.map((column) => column.header)), ...cells.map(line)].join('\n')
}

/** `key: value` lines with the keys aligned; null and undefined values are left out. */
export function renderFields(fields: ReadonlyArray<[string, string | number | null | undefined]>): string {
  const shown = fields.filter((field): field is [string, string | number] => field[1] != null)
  const width = Math.max(0, ...shown.map(([key]) => key.length))
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${value}`).join('\n')
}
