import { prng, shuffle, withClient } from './common';

/**
 * Inputs for the workloads, read from a fresh copy of the seed before the server gets any
 * load. Every mutation gets an input that makes it succeed on the path users hit most
 * (a new pair for a request, a pending request to accept, an open conversation, unread
 * messages to mark seen), and no input is used twice in a repetition.
 */

export interface Pair {
  sender: string;
  recipient: string;
}

export interface Pools {
  hot: string;
  userIds: string[];
  /** Fresh (sender, recipient) pairs: both adults and old enough, no conversation, no block, recipient EVERYONE and not verified. */
  takePair(): Pair | null;
  /** Pending, visible, unexpired requests to anyone but the hot account. */
  takePending(): { id: string; recipient: string; sender: string } | null;
  /** A sendable (conversation, sender) in an open conversation. */
  takeSend(): { conversationId: string; sender: string; recipient: string } | null;
  /** Any readable (conversation, viewer) of an open conversation, with replacement (reads). */
  randomOpen(): { conversationId: string; viewer: string };
  /** A member of an open conversation with unread messages from the other side. */
  takeUnread(): { conversationId: string; reader: string; peer: string } | null;
  unreadLeft(): number;
  inboxViewers: string[];
  folderViewers: string[];
  /** Every open conversation (id, a, b): the bare server's membership table. */
  openConversations: Array<[string, string, string]>;
  /** Open conversations with no participant in common, both sides able to message. */
  chatPairs: Array<{ conversationId: string; a: string; b: string }>;
  /** Unread receipts grouped by the peer who will hear them (for the seen-receipt run). */
  unreadByPeer(maxPeers: number, needed: number): { peers: string[]; items: Array<{ conversationId: string; reader: string; peer: string }> };
}

export async function loadPools(url: string, seed = 7, chatPairCount = 1000): Promise<Pools> {
  return withClient(url, async (c) => {
    const rand = prng(seed);
    const hot = (await c.query(`SELECT id FROM users WHERE username = 'u000001'`)).rows[0].id as string;
    const users = (
      await c.query(
        `SELECT u.id, u.dm_policy, u.verified,
                (u.birth_date <= current_date - interval '18 years') AS adult,
                (u.created_at < now() - interval '4 days') AS established,
                EXISTS (SELECT 1 FROM messaging_bans b WHERE b.user_id = u.id) AS banned
           FROM users u ORDER BY u.username`,
      )
    ).rows as Array<{ id: string; dm_policy: string; verified: boolean; adult: boolean; established: boolean; banned: boolean }>;
    const byId = new Map(users.map((u) => [u.id, u]));
    const canSend = (id: string) => {
      const u = byId.get(id);
      // NOBODY is off both ways: such an account's request is refused OWN_MESSAGING_DISABLED.
      return !!u && u.adult && u.established && !u.banned && u.dm_policy !== 'NOBODY';
    };
    const canReceive = (id: string) => {
      const u = byId.get(id);
      return !!u && u.adult && u.dm_policy === 'EVERYONE' && !u.verified;
    };
    const key = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
    const existing = new Set<string>();
    for (const r of (await c.query(`SELECT user_low_id AS a, user_high_id AS b FROM conversations`)).rows) existing.add(`${r.a}|${r.b}`);
    const blocked = new Set<string>();
    for (const r of (await c.query(`SELECT blocker_id AS a, blocked_id AS b FROM blocks`)).rows) blocked.add(key(r.a, r.b));

    // ---- fresh pairs, generated lazily -----------------------------------------------------
    const senders = shuffle(users.filter((u) => canSend(u.id) && u.id !== hot).map((u) => u.id), rand);
    const recipients = shuffle(users.filter((u) => canReceive(u.id) && u.id !== hot).map((u) => u.id), rand);
    const usedPairs = new Set<string>();
    const takePair = (): Pair | null => {
      for (let tries = 0; tries < 1000; tries++) {
        const sender = senders[Math.floor(rand() * senders.length)];
        const recipient = recipients[Math.floor(rand() * recipients.length)];
        if (sender === recipient) continue;
        const k = key(sender, recipient);
        if (existing.has(k) || blocked.has(k) || usedPairs.has(k)) continue;
        usedPairs.add(k);
        return { sender, recipient };
      }
      return null;
    };

    // ---- pending requests to accept ---------------------------------------------------------
    const pending = shuffle(
      (
        await c.query(
          `SELECT r.id, r.recipient_id AS recipient, r.sender_id AS sender FROM message_requests r
            WHERE r.status = 'PENDING' AND NOT r.hidden AND r.deleted_at IS NULL AND r.expires_at > now() + interval '1 hour' AND r.recipient_id <> $1`,
          [hot],
        )
      ).rows as Array<{ id: string; recipient: string; sender: string }>,
      rand,
    ).filter((r) => !blocked.has(key(r.sender, r.recipient)));
    let pi = 0;

    // ---- open conversations ------------------------------------------------------------------
    const open = (await c.query(`SELECT id, user_low_id AS a, user_high_id AS b FROM conversations WHERE status = 'OPEN'`)).rows as Array<{ id: string; a: string; b: string }>;
    const mayMessage = (from: string, to: string) => {
      const f = byId.get(from);
      const t = byId.get(to);
      // NOBODY is off both ways (message-rules): such a sender is refused with OWN_MESSAGING_DISABLED.
      return !!f && !!t && !f.banned && f.dm_policy !== 'NOBODY' && t.dm_policy !== 'NOBODY' && !blocked.has(key(from, to));
    };
    const sendable = shuffle(
      open.flatMap((o) => {
        const out: Array<{ conversationId: string; sender: string; recipient: string }> = [];
        if (mayMessage(o.a, o.b)) out.push({ conversationId: o.id, sender: o.a, recipient: o.b });
        else if (mayMessage(o.b, o.a)) out.push({ conversationId: o.id, sender: o.b, recipient: o.a });
        return out;
      }),
      rand,
    );
    let oi = 0;

    // ---- unread (conversation, reader): marking moves the pointer and sends a receipt ------
    const unread = shuffle(
      (
        await c.query(
          `SELECT m.conversation_id, m.user_id AS reader, m.other_user_id AS peer
             FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id AND c.status = 'OPEN'
            WHERE EXISTS (SELECT 1 FROM messages msg WHERE msg.conversation_id = m.conversation_id AND msg.sender_id = m.other_user_id
                            AND msg.seq > m.last_read_seq AND msg.seen_at IS NULL)`,
        )
      ).rows.map((r) => ({ conversationId: r.conversation_id as string, reader: r.reader as string, peer: r.peer as string })),
      rand,
    ).filter((u) => !blocked.has(key(u.reader, u.peer)));
    const unreadTaken = new Set<number>();
    let ui = 0;
    const takeUnread = () => {
      while (ui < unread.length && unreadTaken.has(ui)) ui++;
      if (ui >= unread.length) return null;
      unreadTaken.add(ui);
      return unread[ui++];
    };

    const inboxViewers = (
      await c.query(`SELECT user_id FROM conversation_members WHERE in_inbox GROUP BY user_id HAVING count(*) >= 60 ORDER BY count(*) DESC LIMIT 300`)
    ).rows.map((r) => r.user_id as string);
    const folderViewers = (
      await c.query(
        `SELECT recipient_id FROM message_requests WHERE status = 'PENDING' AND NOT hidden AND deleted_at IS NULL AND expires_at > now()
          GROUP BY recipient_id HAVING count(*) >= 5 ORDER BY count(*) DESC LIMIT 500`,
      )
    ).rows.map((r) => r.recipient_id as string);

    // ---- chat pairs: distinct people, both able to message -----------------------------------
    const busy = new Set<string>();
    const chatPairs: Array<{ conversationId: string; a: string; b: string }> = [];
    const chatConvs = new Set<string>();
    for (const o of shuffle([...open], prng(seed + 1))) {
      if (chatPairs.length >= chatPairCount) break;
      if (busy.has(o.a) || busy.has(o.b) || !mayMessage(o.a, o.b) || !mayMessage(o.b, o.a)) continue;
      busy.add(o.a);
      busy.add(o.b);
      chatPairs.push({ conversationId: o.id, a: o.a, b: o.b });
      chatConvs.add(o.id);
    }

    return {
      hot,
      userIds: users.map((u) => u.id),
      takePair,
      takePending: () => (pi < pending.length ? pending[pi++] : null),
      takeSend: () => {
        // Chat conversations are left alone so the chat runs start from the same state.
        while (oi < sendable.length && chatConvs.has(sendable[oi].conversationId)) oi++;
        return oi < sendable.length ? sendable[oi++] : null;
      },
      takeUnread,
      randomOpen: () => {
        const o = open[Math.floor(rand() * open.length)];
        return { conversationId: o.id, viewer: rand() < 0.5 ? o.a : o.b };
      },
      unreadLeft: () => unread.length - unreadTaken.size,
      inboxViewers,
      folderViewers,
      chatPairs,
      openConversations: open.map((o) => [o.id, o.a, o.b] as [string, string, string]),
      unreadByPeer(maxPeers: number, needed: number) {
        const byPeer = new Map<string, number[]>();
        unread.forEach((u, i) => {
          if (unreadTaken.has(i)) return;
          const list = byPeer.get(u.peer) ?? [];
          list.push(i);
          byPeer.set(u.peer, list);
        });
        const ranked = [...byPeer.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, maxPeers);
        const items: Array<{ conversationId: string; reader: string; peer: string }> = [];
        // Round-robin over peers so receipts spread across sockets.
        for (let round = 0; items.length < needed; round++) {
          let any = false;
          for (const [, idx] of ranked) {
            if (round < idx.length && items.length < needed) {
              unreadTaken.add(idx[round]);
              items.push(unread[idx[round]]);
              any = true;
            }
          }
          if (!any) break;
        }
        return { peers: ranked.map(([p]) => p), items };
      },
    };
  });
}
