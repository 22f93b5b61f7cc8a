import { sendBatchCases } from './send-batch.cases';

// Batches on the app's own connections (SEND_BATCH_THREAD=false).
sendBatchCases({ env: { SEND_BATCH_THREAD: 'false' }, onThread: false });
