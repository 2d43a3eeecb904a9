import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { latestAcceptedUsageTime, usageRefusal } from '../../src/domain/usage-window.js';

const d = (s: string) => new Date(s);
const cluster = { activeFrom: d('2026-11-10T00:00:00Z'), activeUntil: d('2026-11-20T00:00:00Z') };
const now = d('2026-11-25T00:00:00Z');

describe('usageRefusal', () => {
  it('accepts an event inside the cluster’s life, from its start (inclusive) to before its end', () => {
    assert.equal(usageRefusal(d('2026-11-10T00:00:00Z'), cluster, now), null);
    assert.equal(usageRefusal(d('2026-11-19T23:59:59.999Z'), cluster, now), null);
    assert.equal(usageRefusal(d('2030-01-01T00:00:00Z'), { ...cluster, activeUntil: null }, d('2030-01-01T00:00:00Z')), null);
  });

  it('refuses an event before the cluster’s start, at or after its end', () => {
    assert.equal(usageRefusal(d('2026-11-09T23:59:59.999Z'), cluster, now), 'before_cluster_start');
    assert.equal(usageRefusal(d('2026-11-20T00:00:00Z'), cluster, now), 'after_cluster_end');
    assert.equal(usageRefusal(d('2026-11-24T00:00:00Z'), cluster, now), 'after_cluster_end');
  });

  it('accepts up to 5 minutes ahead of the clock and refuses anything later first', () => {
    const active = { ...cluster, activeUntil: null };
    assert.equal(latestAcceptedUsageTime(now).toISOString(), '2026-11-25T00:05:00.000Z');
    assert.equal(usageRefusal(d('2026-11-25T00:05:00Z'), active, now), null);
    assert.equal(usageRefusal(d('2026-11-25T00:05:00.001Z'), active, now), 'in_the_future');
    assert.equal(usageRefusal(d('2031-01-01T00:00:00Z'), cluster, now), 'in_the_future');
  });
});
