import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PORT, formatHostPort, parseHubUrl } from '../../src/protocol/hub-url.js';
import { checkSubscriptionName, checkTopicName } from '../../src/protocol/names.js';

const VALID = ['a', 'Z', '0', 'orders', 'eu-west.orders/2024:q1_final', '..', '.', '/', 'a/../b', ':-_', 'x'.repeat(255)];
const INVALID = ['', 'x'.repeat(256), 'a|b', '|', 'a b', ' a', 'a ', 'tab\there', 'line\nbreak', 'zürich', '東京', 'cow🐄', 'a*', 'a?', 'a%20b', 'a\u0000'];

describe('topic and subscription names [P-3.1]', () => {
  const checks = [
    { name: 'checkTopicName', check: checkTopicName, code: 'INVALID_TOPIC' },
    { name: 'checkSubscriptionName', check: checkSubscriptionName, code: 'INVALID_SUBSCRIPTION' },
  ] as const;

  for (const { name, check, code } of checks) {
    it(`${name} accepts 1-255 characters of [A-Za-z0-9._:/-]`, () => {
      for (const n of VALID) assert.doesNotThrow(() => check(n), JSON.stringify(n));
    });

    it(`${name} refuses anything else with ${code}`, () => {
      for (const n of INVALID) {
        assert.throws(() => check(n), { name: 'CorralError', code, retryable: false }, JSON.stringify(n));
      }
    });
  }

  it('keeps an overlong name out of the error message', () => {
    assert.throws(() => checkTopicName('y'.repeat(10_000)), (err: Error) => err.message.length < 200);
  });
});

describe('hub URLs [P-3.2]', () => {
  it('parses one address, with or without the scheme', () => {
    assert.deepEqual(parseHubUrl('corral://hub1.example.com:7500'), [{ host: 'hub1.example.com', port: 7500 }]);
    assert.deepEqual(parseHubUrl('10.0.0.1:1'), [{ host: '10.0.0.1', port: 1 }]);
    assert.deepEqual(parseHubUrl('corral://h:65535/'), [{ host: 'h', port: 65535 }]);
  });

  it('defaults the port to 7400', () => {
    assert.equal(DEFAULT_PORT, 7400);
    assert.deepEqual(parseHubUrl('corral://localhost'), [{ host: 'localhost', port: 7400 }]);
    assert.deepEqual(parseHubUrl('[::1]'), [{ host: '::1', port: 7400 }]);
  });

  it('parses a list in order, trimming spaces around each address', () => {
    assert.deepEqual(parseHubUrl('corral://a:7401, b ,c:7403'), [
      { host: 'a', port: 7401 }, { host: 'b', port: 7400 }, { host: 'c', port: 7403 },
    ]);
  });

  it('takes IPv6 addresses in brackets and formats them back the same way', () => {
    const [a] = parseHubUrl('corral://[fe80::1:2]:7402');
    assert.deepEqual(a, { host: 'fe80::1:2', port: 7402 });
    assert.equal(formatHostPort(a!), '[fe80::1:2]:7402');
    assert.equal(formatHostPort({ host: 'h', port: 1 }), 'h:1');
  });

  it('refuses an invalid address with INVALID_URL', () => {
    const bad = [
      '', 'corral://', 'corral://,', ' ', 'h:0', 'h:65536', 'h:99999', 'h:abc', 'h:', ':7400', '::1', 'fe80::1:7400',
      '[::1', 'h/path', 'http://h', 'h:1:2', 'a b:1', 'corral://ok:1,bad:0',
    ];
    for (const url of bad) {
      assert.throws(() => parseHubUrl(url), { name: 'CorralError', code: 'INVALID_URL', retryable: false }, JSON.stringify(url));
    }
  });
});
