import DataLoader from 'dataloader';
import type { User } from './user.entity';
import type { UsersService } from './users.service';

export function createUserLoaders(users: UsersService, opts: { cache: boolean }) {
  return {
    userById: new DataLoader<string, User | null>(async (ids) => {
      const rows = await users.byIds(ids);
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
  };
}
