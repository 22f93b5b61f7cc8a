import type { UserEvent } from '../../graphql/pubsub';
import type { Clock } from '../../lib/clock';
import type { Relationship } from '../relationships/follow-visibility';
import { canSeeRequest, type RequestParties } from '../requests/request-visibility';
import { EventType, type EventsService } from './events.service';

/** An event of the log, with the request it names when it names one (read by the caller). */
export interface EventItem<R extends RequestParties = RequestParties> {
  event: UserEvent;
  request?: R | null;
}

const DROP = Symbol('drop');

/**
 * Who caused `event`, whose block (either way) keeps it from the viewer; null when no one
 * else did (the viewer's own badge); DROP when the viewer may not see it whoever caused it:
 * a request it can no longer see, or an event that names no one.
 */
function eventActor(viewerId: string, event: UserEvent, request: RequestParties | null, now: Date): string | null | typeof DROP {
  const p = event.payload as Record<string, unknown>;
  switch (event.type) {
    case EventType.MESSAGE_REQUEST_RECEIVED:
    case EventType.MESSAGE_REQUEST_ACCEPTED:
      if (!request || !canSeeRequest(request, viewerId, now)) return DROP;
      return request.senderId === viewerId ? request.recipientId : request.senderId;
    case EventType.MESSAGE_RECEIVED:
      return typeof p.senderId === 'string' ? p.senderId : DROP;
    case EventType.MESSAGE_SEEN:
      return typeof p.readerId === 'string' ? p.readerId : DROP;
    case EventType.MESSAGE_UNSENT:
    case EventType.MESSAGE_EDITED:
    case EventType.MESSAGE_REACTION:
      return typeof p.actorId === 'string' ? p.actorId : DROP;
    default:
      return null;
  }
}

/** Most batches catch-up reads past events it may not show before it answers with what it has. */
const MAX_CATCH_UP_BATCHES = 10;

/**
 * The one rule for what of its event log an account receives, now: live delivery re-checks
 * each event with it just before sending, and `events(after:)` filters with it, so a
 * reconnecting client never learns from the log what a live subscriber would not have been
 * told (a message from across a block, a request since withdrawn or put away). Batched:
 * one relationship lookup per batch of events, whatever its size.
 */
export class EventVisibility {
  constructor(
    private readonly events: EventsService,
    private readonly relationships: { between(a: string, others: readonly string[]): Promise<Map<string, Relationship>> },
    private readonly clock: Clock,
  ) {}

  /** The items `viewerId` may receive now, in their order. */
  async visible<T extends EventItem>(viewerId: string, items: readonly T[]): Promise<T[]> {
    const now = this.clock.now();
    const actors = items.map((i) => eventActor(viewerId, i.event, i.request ?? null, now));
    const others = [...new Set(actors.filter((a): a is string => typeof a === 'string' && a !== viewerId))];
    const rels = await this.relationships.between(viewerId, others);
    return items.filter((_, k) => {
      const actor = actors[k];
      if (actor === DROP) return false;
      if (actor === null || actor === viewerId) return true;
      const rel = rels.get(actor);
      return !rel || (!rel.aBlocksB && !rel.bBlocksA);
    });
  }

  async allows(viewerId: string, event: UserEvent, request?: RequestParties | null): Promise<boolean> {
    return (await this.visible(viewerId, [{ event, request }])).length === 1;
  }

  /**
   * events(after:): up to `first` events after `after` that the viewer may receive, oldest
   * first. Events it may not see are passed over, reading on so that a run of them does not
   * end the catch-up early (within MAX_CATCH_UP_BATCHES reads of `first`).
   */
  async catchUp<R extends RequestParties & { id: string }>(
    viewerId: string,
    after: string | null | undefined,
    first: number,
    requestsByIds: (ids: string[]) => Promise<R[]>,
  ): Promise<Array<{ event: UserEvent; request: R | null }>> {
    const kept: Array<{ event: UserEvent; request: R | null }> = [];
    let cursor = after;
    for (let batch = 0; batch < MAX_CATCH_UP_BATCHES && kept.length < first; batch++) {
      const events = await this.events.list(viewerId, cursor, first);
      const ids = events.map((e) => e.payload.requestId).filter((id): id is string => typeof id === 'string');
      const requests = new Map((ids.length ? await requestsByIds(ids) : []).map((r) => [r.id, r]));
      const items = events.map((event) => ({ event, request: typeof event.payload.requestId === 'string' ? (requests.get(event.payload.requestId) ?? null) : null }));
      kept.push(...(await this.visible(viewerId, items)));
      if (events.length < first) break;
      cursor = events[events.length - 1].cursor;
    }
    return kept.slice(0, first);
  }
}
