import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, errorCodeFromWire, type ErrorCode, type ErrorCodeInfo } from '../../src/protocol/error-codes.js';

// Compiled to dist/test/protocol/, three levels below the repository root.
const ERRORS_MD = new URL('../../../docs/errors.md', import.meta.url);

const HEADER = '| code | wire | retryable | meaning | typical cause and what a client should do |';
const ROW = /^\| `([A-Z][A-Z0-9_]*)` \| (\d+) \| (yes|no) \| ([^|].*?) \| (.+) \|$/;

interface DocRow {
  code: string;
  wire: number;
  retryable: boolean;
  meaning: string;
  line: number;
}

/**
 * Every row of the code table in docs/errors.md. A line inside the table that
 * does not have the row's shape fails here, so a malformed row cannot drop
 * out of the comparison unnoticed.
 */
function documentedRows(markdown: string): DocRow[] {
  const lines = markdown.split('\n');
  const head = lines.indexOf(HEADER);
  assert.notEqual(head, -1, `docs/errors.md has no table headed "${HEADER}"`);
  assert.match(lines[head + 1] ?? '', /^\|(---\|)+$/, 'the header is followed by its separator line');
  const rows: DocRow[] = [];
  for (let i = head + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const m = ROW.exec(lines[i]!);
    assert.ok(m, `docs/errors.md line ${i + 1} is not a "| \`CODE\` | wire | yes/no | meaning | cause |" row: ${lines[i]}`);
    rows.push({ code: m[1]!, wire: Number(m[2]), retryable: m[3] === 'yes', meaning: m[4]!, line: i + 1 });
  }
  return rows;
}

const codes = Object.keys(ERROR_CODES) as ErrorCode[];
const info = (code: ErrorCode): ErrorCodeInfo => ERROR_CODES[code];
/** docs/errors.md: "A retired code keeps its row, marked retired." */
const isRetired = (r: DocRow): boolean => r.meaning.startsWith('Retired');
/** docs/errors.md: "Client-side codes are raised by the client library and never sent by a hub." */
const isClientSide = (r: DocRow): boolean => r.meaning.startsWith('Client-side:');

describe('docs/errors.md documents exactly the codes of ERROR_CODES', () => {
  // Read inside each test so a malformed table fails a test rather than the file's loading.
  const readRows = (): DocRow[] => documentedRows(readFileSync(ERRORS_MD, 'utf8'));
  const where = (r: DocRow): string => `docs/errors.md line ${r.line}`;

  it('documents every code once, with its wire number, retryable flag and side', () => {
    const rows = readRows();
    for (const code of codes) {
      const mine = rows.filter((r) => r.code === code);
      assert.equal(mine.length, 1, `${code} has ${mine.length} rows in docs/errors.md, expected 1`);
      const row = mine[0]!;
      assert.ok(!isRetired(row), `${code} is in ERROR_CODES but marked retired at ${where(row)}`);
      assert.equal(row.wire, info(code).wire, `${code}: wire number at ${where(row)}`);
      assert.equal(row.retryable, info(code).retryable, `${code}: retryable at ${where(row)}`);
      assert.equal(isClientSide(row), info(code).clientSide === true, `${code}: "Client-side:" at ${where(row)} against clientSide in error-codes.ts`);
    }
  });

  it('documents no code that does not exist, except retired ones whose wire number stays unused', () => {
    const rows = readRows();
    for (const r of rows) {
      if (isRetired(r)) {
        assert.ok(!Object.hasOwn(ERROR_CODES, r.code), `${where(r)}: ${r.code} is marked retired but still in ERROR_CODES`);
        const reuser = codes.find((c) => ERROR_CODES[c].wire === r.wire);
        assert.equal(reuser, undefined, `${where(r)}: retired wire number ${r.wire} reused by ${reuser}`);
      } else {
        assert.ok(Object.hasOwn(ERROR_CODES, r.code), `${where(r)} documents ${r.code}, which is not in src/protocol/error-codes.ts`);
      }
    }
    const wires = rows.map((r) => r.wire);
    assert.equal(new Set(wires).size, wires.length, 'no wire number has two rows');
  });

  it('summaries agree with the table on the side that raises the code', () => {
    for (const code of codes) {
      assert.equal(info(code).summary.startsWith('Client side:'), info(code).clientSide === true, `${code}: summary and clientSide disagree`);
    }
  });
});

describe('ERROR_CODES wire numbers', () => {
  it('are unique u16 values and map back to their code', () => {
    const seen = new Map<number, ErrorCode>();
    for (const code of codes) {
      const { wire } = ERROR_CODES[code];
      assert.ok(Number.isInteger(wire) && wire > 0 && wire <= 0xffff, `${code}: wire ${wire} is not a u16 above 0`);
      assert.equal(seen.get(wire), undefined, `${code} reuses wire number ${wire}`);
      seen.set(wire, code);
      assert.equal(errorCodeFromWire(wire), code);
    }
  });

  it('an unknown wire number (from a newer hub) maps to INTERNAL [P-9.1]', () => {
    const unused = Math.max(...codes.map((c) => ERROR_CODES[c].wire)) + 1;
    assert.equal(errorCodeFromWire(unused), 'INTERNAL');
    assert.equal(errorCodeFromWire(0), 'INTERNAL');
  });
});
