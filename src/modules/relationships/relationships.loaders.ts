import DataLoader from 'dataloader';
import type { FollowContext, Relationship, RelationshipsService } from './relationships.service';

/**
 * Per-request loaders, as the viewer sees them; `relationship` is the viewer's relationship
 * to each loaded account, `followContext` what the viewer may know of each one's follows.
 */
export function createRelationshipLoaders(relationships: RelationshipsService, viewerId: string | null, opts: { cache: boolean }) {
  return {
    followCounts: new DataLoader<string, { followers: number; following: number }>(async (ids) => {
      const counts = await relationships.counts(ids, viewerId);
      return ids.map((id) => counts.get(id)!);
    }, opts),
    relationship: new DataLoader<string, Relationship | null>(async (ids) => {
      if (!viewerId) return ids.map(() => null);
      const rels = await relationships.between(viewerId, ids);
      return ids.map((id) => rels.get(id) ?? null);
    }, opts),
    followContext: new DataLoader<string, FollowContext>(async (ids) => {
      if (!viewerId) return ids.map(() => ({ followsViewer: false, mutualFollowCount: 0 }));
      const context = await relationships.followContext(viewerId, ids);
      return ids.map((id) => context.get(id)!);
    }, opts),
  };
}
