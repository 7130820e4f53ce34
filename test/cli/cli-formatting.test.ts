import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { formatTable } from '../../src/cli/format-table.js';
import { parseDuration } from '../../src/cli/parse-duration.js';

describe('parseDuration', () => {
  it('reads units and sums combined ones', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration('1500'), 1500);
  });

  it('refuses anything else as a usage error', () => {
    for (const bad of ['', 'soon', '1x', '-1s', '1.5h', 'h1', '1h 30m']) {
      assert.throws(() => parseDuration(bad), InvalidArgumentError, bad);
    }
  });
});

describe('formatTable', () => {
  it('aligns text left and number columns right', () => {
    assert.equal(
      formatTable(['TOPIC', 'LAST'], [['orders', 12], ['a', 3]]),
      'TOPIC   LAST\norders    12\na          3\n',
    );
  });
});
