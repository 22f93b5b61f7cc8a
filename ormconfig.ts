// The TypeORM CLI's data source (migration:generate / migration:run). It needs DATABASE_URL.
import { createDataSource } from './src/db/data-source';

if (!process.env.DATABASE_URL) {
  throw new Error('Set DATABASE_URL for the TypeORM CLI, e.g. postgres://root@127.0.0.1:5432/scratch');
}

export default createDataSource({ url: process.env.DATABASE_URL });
