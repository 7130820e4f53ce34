import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, errorCodeFromWire, type ErrorCode } from '../../src/protocol/error-codes.js';

// Compiled to dist/test/protocol/, three levels below the repository root.
const ERRORS_MD = new URL('../../../docs/errors.md', import.meta.url);

interface DocRow {
  code: string;
  wire: number;
  retryable: string;
  line: number;
}

/** Rows of the form "| `CODE_NAME` | <wire> | <yes|no> | …". */
function documentedRows(): DocRow[] {
  const rows: DocRow[] = [];
  readFileSync(ERRORS_MD, 'utf8').split('\n').forEach((text, i) => {
    const m = /^\| `([A-Z0-9_]+)` \| (\d+) \| (\w+) \|/.exec(text);
    if (m) rows.push({ code: m[1]!, wire: Number(m[2]), retryable: m[3]!, line: i + 1 });
  });
  return rows;
}

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('docs/errors.md documents exactly the codes of ERROR_CODES', () => {
  const rows = documentedRows();

  it('finds the table', () => {
    assert.ok(rows.length > 0, `no "| \`CODE\` | wire |" rows in ${ERRORS_MD.pathname}`);
  });

  it('has one row per code, with the same wire number and retryable flag', () => {
    for (const code of codes) {
      const mine = rows.filter((r) => r.code === code);
      assert.equal(mine.length, 1, `${code} has ${mine.length} rows in docs/errors.md`);
      assert.equal(mine[0]!.wire, ERROR_CODES[code].wire, `${code}: wire number in docs/errors.md line ${mine[0]!.line}`);
      assert.equal(mine[0]!.retryable, ERROR_CODES[code].retryable ? 'yes' : 'no', `${code}: retryable in docs/errors.md line ${mine[0]!.line}`);
    }
  });

  it('names no code that does not exist', () => {
    for (const r of rows) assert.ok(Object.hasOwn(ERROR_CODES, r.code), `docs/errors.md line ${r.line} documents unknown code ${r.code}`);
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
