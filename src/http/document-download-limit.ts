/** Signed-document links are limited per client address (`config.rateLimits.documentDownloads`, shared by every process). */
import type { FastifyRequest } from 'fastify';
import { takeHit } from '../rate-limits/rate-limits.js';

export async function limitDocumentDownloads(request: FastifyRequest): Promise<void> {
  const { database, config } = request.bursar;
  await takeHit(database, config.rateLimits.documentDownloads, request.ip, new Date(), 'document downloads');
}
