import type { ConversationsService } from '../conversations/conversations.service';
import type { RequestsService } from '../requests/requests.service';
import type { NotificationsService } from './notifications.service';

/** The inbox badge, composed from the modules that own each count. */
export class BadgeService {
  constructor(
    private readonly requests: RequestsService,
    private readonly conversations: ConversationsService,
    private readonly notifications: NotificationsService,
  ) {}

  async badge(viewerId: string) {
    const [pendingRequestCount, unreadConversationCount, unreadNotificationCount] = await Promise.all([
      this.requests.pendingRequestCount(viewerId),
      this.conversations.unreadConversationCount(viewerId),
      this.notifications.unreadCount(viewerId),
    ]);
    return {
      pendingRequestCount,
      unreadConversationCount,
      unreadNotificationCount,
      // Hidden requests create no notification, so they never light the dot.
      showDot: unreadConversationCount > 0 || unreadNotificationCount > 0,
    };
  }
}
