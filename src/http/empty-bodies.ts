/**
 * Routes that take no body accept an empty one whatever its content type: clients send a content type on bodiless
 * POSTs (axios sends `application/x-www-form-urlencoded`), which would otherwise be a 415 (no parser for it) or a
 * 400 (an empty JSON document). The content type of an empty body says nothing, so it is dropped before parsing.
 * A route that takes a body is left alone: a body of another type than JSON is still a 415 there.
 */
import type { FastifyRequest } from 'fastify';

function hasEmptyBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length === '0';
  return request.headers['transfer-encoding'] === undefined;
}

/** A `preParsing` hook: runs after routing and before the body parser reads the content type. */
export async function ignoreContentTypeOfEmptyBodies(request: FastifyRequest): Promise<void> {
  if (request.headers['content-type'] === undefined) return;
  if (request.routeOptions.schema?.body !== undefined) return;
  if (hasEmptyBody(request)) delete request.headers['content-type'];
}
