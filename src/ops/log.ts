import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Log lines carry ids, route patterns, statuses and timings only. The redaction list is a
 * second line of defence in case a field holding a secret or personal data is ever passed in.
 */
const SENSITIVE = [
  "authorization",
  "token",
  "access_token",
  "refresh_token",
  "password",
  "api_key",
  "key",
  "email",
  "phone",
  "date_of_birth",
  "text",
  "comments",
  "body",
  "data",
  "headers",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const paths = SENSITIVE.flatMap((k) => [k, `*.${k}`]);
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths, censor: "[redacted]" },
    },
    destination,
  );
}
