import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';
import type { Context } from './context';

/**
 * One structured line per HTTP operation: request id, operation, viewer, duration and the
 * error codes returned (formatError logs the details of unexpected ones). Never variables
 * or results: they carry message text and secrets.
 */
export function requestLogPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue, request }) {
      if (!logger.isLevelEnabled('info')) return;
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ response, operationName, operation }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          logger.info(
            {
              requestId: contextValue.requestId,
              operation: operationName ?? request.operationName ?? null,
              type: operation?.operation ?? null,
              viewer: contextValue.viewer?.id ?? null,
              ms: Number(process.hrtime.bigint() - started) / 1e6,
              errors: body?.errors?.map((e) => e.extensions?.code ?? 'UNKNOWN'),
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
