/**
 * Development helper: prints an HS256 user JWT signed with BURSAR_JWT_SECRET.
 * Usage: npm run --silent jwt -- <user-id> [organization-id] [ttl-seconds]
 */
import { SignJWT } from 'jose';

const [userId, organizationId, ttl] = process.argv.slice(2);
const secret = process.env.BURSAR_JWT_SECRET;
if (!userId || !secret) {
  console.error('usage: BURSAR_JWT_SECRET=… npm run --silent jwt -- <user-id> [organization-id] [ttl-seconds]');
  process.exit(2);
}
const jwt = new SignJWT(organizationId ? { org_id: organizationId } : {})
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(userId)
  .setIssuedAt()
  .setExpirationTime(`${Number(ttl ?? 3600)}s`);
console.log(await jwt.sign(new TextEncoder().encode(secret)));
