import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured logs. Secrets and message text never reach them: the paths below are
 * censored wherever a careless `log.info({ input })` might put them.
 */
export function createLogger(level: string, name = 'message-requests', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'password',
        '*.password',
        'token',
        '*.token',
        'text',
        '*.text',
        'variables',
        '*.variables',
        'connectionParams',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
