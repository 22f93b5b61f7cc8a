import type { DataSource } from 'typeorm';
import { MAX_HELD } from '../../src/lib/async-iterable';
import { systemClock } from '../../src/lib/clock';
import { eventBusOver, type UserEvent } from '../../src/graphql/pubsub';
import { EventType, EventsService, inConversation } from '../../src/modules/notifications/events.service';

/**
 * A subscription's bound on what it holds for a stalled socket (MAX_HELD) counts only
 * the events it would send: an account's traffic in other conversations, or of other
 * types, must not end a conversation's subscription that is merely not being read.
 */
describe('EventsService.subscribe on a stalled reader', () => {
  // subscribe() only listens on the bus: no database is touched.
  const setup = () => {
    const bus = eventBusOver();
    const delivered: string[] = [];
    const events = new EventsService(null as unknown as DataSource, bus, systemClock, (e) => delivered.push(e.cursor));
    let cursor = 0;
    const publish = (type: EventType, conversationId: string) => {
      const event: UserEvent = { userId: 'a', cursor: String(++cursor), type, payload: { conversationId }, publishedAt: 0 };
      bus.publish('user', 'a', event);
      return event.cursor;
    };
    return { bus, events, publish, delivered };
  };

  it("keeps a conversation's subscription open through any amount of the account's other traffic, and sends only its own", async () => {
    const { events, publish, delivered } = setup();
    const stream = events.subscribe('a', [EventType.MESSAGE_RECEIVED], (e) => e, { where: inConversation('c1') })[Symbol.asyncIterator]();
    for (let n = 0; n <= MAX_HELD; n++) {
      publish(EventType.MESSAGE_RECEIVED, 'c2');
      publish(EventType.MESSAGE_SEEN, 'c1');
    }
    const own = publish(EventType.MESSAGE_RECEIVED, 'c1');
    expect(await stream.next()).toEqual({ value: expect.objectContaining({ cursor: own }), done: false });
    // The publish-lag metric observes deliveries, not what the subscription never sends.
    expect(delivered).toEqual([own]);
    await stream.return!();
  });

  it('still ends a subscription that falls MAX_HELD of its own events behind', async () => {
    const { events, publish } = setup();
    const stream = events.subscribe('a', [EventType.MESSAGE_RECEIVED], (e) => e, { where: inConversation('c1') })[Symbol.asyncIterator]();
    for (let n = 0; n <= MAX_HELD; n++) publish(EventType.MESSAGE_RECEIVED, 'c1');
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('without a conversation takes every conversation, and no event that has none', async () => {
    const { bus, events, publish } = setup();
    const stream = events.subscribe('a', [EventType.MESSAGE_RECEIVED], (e) => e, { where: inConversation(null) })[Symbol.asyncIterator]();
    bus.publish('user', 'a', { userId: 'a', cursor: '0', type: EventType.MESSAGE_RECEIVED, payload: {}, publishedAt: 0 });
    const c2 = publish(EventType.MESSAGE_RECEIVED, 'c2');
    const c3 = publish(EventType.MESSAGE_RECEIVED, 'c3');
    expect((await stream.next()).value).toEqual(expect.objectContaining({ cursor: c2 }));
    expect((await stream.next()).value).toEqual(expect.objectContaining({ cursor: c3 }));
    await stream.return!();
  });
});
