import { AccountRateLimit } from '../../graphql/account-rate-limit.middleware';
import { MAX_BULK } from './requests.service';

/**
 * acceptMessageRequests / deleteMessageRequests: each distinct id is one transaction, so
 * each spends one point of BULK_IDS_PER_HOUR; a call that does not fit is refused whole
 * (nothing written, nothing spent). A list the service refuses as BAD_USER_INPUT (empty,
 * or over MAX_BULK) is not charged.
 */
export const BulkRateLimit = AccountRateLimit('bulk', ({ ids }) =>
  Array.isArray(ids) && ids.length >= 1 && ids.length <= MAX_BULK ? new Set(ids).size : 0,
);
