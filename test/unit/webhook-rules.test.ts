import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNonPublicAddress } from '../../src/domain/network-address.js';
import { WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_DELAYS_MS, webhookRetryDelayMs } from '../../src/domain/webhook-retry-schedule.js';

test('loopback, private, link-local, unique-local and mapped addresses are not public', () => {
  for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', '::ffff:127.0.0.1', '[::1]', 'not-an-ip']) {
    assert.equal(isNonPublicAddress(address), true, address);
  }
  for (const address of ['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
    assert.equal(isNonPublicAddress(address), false, address);
  }
});

test('the retry schedule: at once, 5 s, 5 min, …, about three days in all, then none', () => {
  assert.equal(webhookRetryDelayMs(0), 0);
  assert.equal(webhookRetryDelayMs(1), 5_000);
  assert.equal(webhookRetryDelayMs(2), 300_000);
  assert.equal(webhookRetryDelayMs(WEBHOOK_MAX_ATTEMPTS), null);
  const totalHours = WEBHOOK_RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0) / 3_600_000;
  assert.ok(totalHours > 70 && totalHours <= 72, `${totalHours} h`);
});
