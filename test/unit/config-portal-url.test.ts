import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('BURSAR_PORTAL_URL', () => {
  it('is unset by default, kept as given when it is an absolute http(s) URL', () => {
    assert.equal(loadConfig({}).portalUrl, null);
    assert.equal(loadConfig({ BURSAR_PORTAL_URL: 'https://billing.example.com/portal' }).portalUrl, 'https://billing.example.com/portal');
    assert.equal(loadConfig({ BURSAR_PORTAL_URL: '  ' }).portalUrl, null);
  });

  it('refuses anything a customer could not open from an e-mail', () => {
    for (const value of ['billing.example.com', '/portal', 'ftp://example.com/portal', 'javascript:alert(1)']) {
      assert.throws(() => loadConfig({ BURSAR_PORTAL_URL: value }), ConfigError, value);
    }
  });
});
