import { test } from 'node:test';
import { http, startTestApp } from '../support/test-app.js';
test('probe', async () => {
  const app = await startTestApp();
  const r = await http(app, 'GET', '/openapi.json');
  console.log(r.status, r.body.openapi);
  for (const [p, ops] of Object.entries<any>(r.body.paths)) for (const [m, op] of Object.entries<any>(ops)) console.log('OP', m, p, op.operationId);
  console.log(app.app.server.printRoutes({ commonPrefix: false }));
  await app.close();
});
