import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { decodeCursor, encodeCursor, type CursorValue } from '../lib/cursor';
import { badInput } from './errors';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

@ObjectType()
export class PageInfo {
  @Field() hasNextPage: boolean;
  @Field() hasPreviousPage: boolean;
  @Field(() => String, { nullable: true }) startCursor: string | null;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, description: 'Page size, 1–100 (default 20), from the start or after `after`.' })
  first?: number | null;
  @Field(() => String, { nullable: true })
  after?: string | null;
  @Field(() => Int, { nullable: true, description: 'Page size, 1–100, from the end or before `before`.' })
  last?: number | null;
  @Field(() => String, { nullable: true })
  before?: string | null;
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
  totalCount?: number;
}

/**
 * Builds `XConnection` / `XEdge` object types for a node type; `withTotalCount` adds an
 * exact `totalCount`.
 */
export function ConnectionType<T extends object>(node: ClassType<T>, name = node.name, withTotalCount = false) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor: string;
    @Field(() => node) node: T;
  }
  @ObjectType(`${name}Connection`)
  class Conn {
    @Field(() => [Edge]) edges: Edge[];
    @Field(() => PageInfo) pageInfo: PageInfo;
  }
  if (!withTotalCount) return Conn;
  @ObjectType(`${name}Connection`)
  class CountedConn {
    @Field(() => [Edge]) edges: Edge[];
    @Field(() => PageInfo) pageInfo: PageInfo;
    @Field(() => Int, { description: 'Exact number of items in the whole list.' }) totalCount: number;
  }
  return CountedConn;
}

/**
 * A keyset page request, from Relay arguments. `forward` pages walk the list in its natural
 * order (newest first, say) after the cursor; backward pages walk it in reverse before the
 * cursor and are flipped back by `toConnection`.
 */
export interface PageRequest {
  forward: boolean;
  limit: number;
  cursor: CursorValue[] | null;
}

export function pageRequest(args: ConnectionArgs, cursorArity: number): PageRequest {
  const { first, after, last, before } = args;
  if (first != null && last != null) throw badInput('Pass either first or last, not both', 'first');
  const size = first ?? last ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(`Page size must be between 1 and ${MAX_PAGE_SIZE}`, first != null ? 'first' : 'last');
  }
  const forward = last == null;
  const raw = forward ? after : before;
  if ((forward && before != null) || (!forward && after != null)) {
    throw badInput('Use first with after, or last with before', forward ? 'before' : 'after');
  }
  let cursor: CursorValue[] | null = null;
  if (raw != null) {
    cursor = decodeCursor(raw, cursorArity);
    if (!cursor) throw badInput('Invalid cursor', forward ? 'after' : 'before');
  }
  return { forward, limit: size, cursor };
}

/** Rows were fetched with limit + 1 in walk order; returns the Relay connection. */
export function toConnection<R, N = R>(
  rows: R[],
  page: PageRequest,
  cursorOf: (row: R) => CursorValue[],
  nodeOf: (row: R) => N = (r) => r as unknown as N,
): Connection<N> {
  const hasMore = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  if (!page.forward) pageRows.reverse();
  const edges = pageRows.map((row) => ({ cursor: encodeCursor(cursorOf(row)), node: nodeOf(row) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.forward ? hasMore : page.cursor != null,
      hasPreviousPage: page.forward ? page.cursor != null : hasMore,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/**
 * A newest-first page over (created_at, id) of `alias`: ordering, the keyset condition from
 * the cursor and limit + 1, for lists whose cursor is [createdAt ISO, id].
 */
export function newestFirstPage<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, alias: string, page: PageRequest): SelectQueryBuilder<T> {
  const dir = page.forward ? 'DESC' : 'ASC';
  qb.orderBy(`${alias}.created_at`, dir).addOrderBy(`${alias}.id`, dir).limit(page.limit + 1);
  if (page.cursor) {
    qb.andWhere(`(${alias}.created_at, ${alias}.id) ${page.forward ? '<' : '>'} (:pageAt::timestamptz, :pageId::uuid)`, {
      pageAt: page.cursor[0],
      pageId: page.cursor[1],
    });
  }
  return qb;
}

/** The cursor `newestFirstPage` reads back. */
export const createdAtCursor = (row: { createdAt: Date; id: string }) => [row.createdAt.toISOString(), row.id];
