import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON lines. Credentials and card data are removed by path as a second line of defence: the request log line is
 * built by hand from safe fields only (see http/server.ts), and card numbers never reach a log call.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  'token',
  '*.token',
  'number',
  '*.number',
  'cvv',
  '*.cvv',
  'card',
  '*.card',
  'body',
  '*.body',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: redactedPaths, censor: '[redacted]' } });
}
