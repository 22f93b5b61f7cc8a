import { sendBatchCases } from './send-batch.cases';

// Batches on the app's own connections, as at ordinary rates (the loop does not lag).
sendBatchCases({ env: { SEND_BATCH_THREAD: 'false' }, onThread: false });
