/**
 * Error style of the organization billing API (seeds 000/004) and of the operator API:
 * `{ "status": 400, "error": "validation_error", "message": "…", "fields": [{ "field": "email", "message": "…" }] }`.
 * That API documents 400 for every bad input, so core validation errors (422 in the core) answer 400 here.
 */
import type { Problem } from '../problem.js';
import type { ProblemRenderer } from '../surface.js';

export function defaultProblemRenderer(fieldNames: Record<string, string> = {}): ProblemRenderer {
  return (problem: Problem) => {
    const status = problem.status === 422 && problem.kind === 'core' ? 400 : problem.status;
    const fields = problem.fields.map((f) => ({ field: f.domain ? (fieldNames[f.field] ?? f.field) : f.field, message: f.message }));
    return {
      status,
      body: { status, error: problem.code, message: problem.message, ...(fields.length > 0 ? { fields } : {}) },
    };
  };
}

export const renderDefaultProblem = defaultProblemRenderer();
