/**
 * An HTTP surface: a group of routes that speaks one documented dialect (paths, field names, error style).
 * The surface's renderer turns every error of its routes into that dialect's error body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Caller } from '../domain/actor.js';
import { toProblem, type Problem } from './problem.js';

export type ProblemRenderer = (problem: Problem, request: FastifyRequest) => { status: number; body: unknown };

export function defineSurface(name: string, render: ProblemRenderer, routes: FastifyPluginAsyncTypebox): FastifyPluginAsyncTypebox {
  const plugin: FastifyPluginAsyncTypebox = async (app) => {
    app.addHook('onRequest', async (request) => {
      request.surface = name;
    });
    app.setErrorHandler((error, request, reply) => sendProblem(error, request, reply, render));
    await app.register(routes);
  };
  return plugin;
}

export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply, render: ProblemRenderer): FastifyReply {
  const problem = toProblem(error);
  request.errorCode = problem.code;
  if (problem.code === 'database_unavailable') request.log.warn({ err: error }, 'database unavailable');
  else if (problem.status >= 500) request.log.error({ err: error }, 'unhandled error');
  const { status, body } = render(problem, request);
  if (problem.retryAfterSeconds !== undefined) reply.header('retry-after', String(problem.retryAfterSeconds));
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

/** Who calls a use case, through which surface, in which request: read from the Fastify request once authenticated. */
export function callerOf(request: FastifyRequest): Caller {
  return { actor: request.actor, surface: request.surface, requestId: request.id };
}

/** Fastify instance type with the TypeBox provider, for helpers that take the app. */
export type App = FastifyInstance;
