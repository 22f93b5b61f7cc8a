/**
 * Prints the code-first schema to schema/schema.graphql, or with --check compares and
 * exits 1 when the committed file differs (CI runs the check).
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildAppSchema } from '../graphql/schema';
import { projectRoot } from '../lib/project-root';

export const SCHEMA_FILE = path.join(projectRoot(), 'schema', 'schema.graphql');

export async function printAppSchema(): Promise<string> {
  const schema = await buildAppSchema();
  return `# Generated from the code by \`npm run schema:emit\`. Do not edit.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}

export function schemaDiffers(expected: string, file: string): boolean {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    return true;
  }
  return current !== expected;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const file = process.argv.find((a) => a.startsWith('--file='))?.slice(7) ?? SCHEMA_FILE;
  const printed = await printAppSchema();
  if (check) {
    if (schemaDiffers(printed, file)) {
      console.error(`${path.relative(process.cwd(), file)} differs from the schema the code builds. Run \`npm run schema:emit\` and commit it.`);
      process.exit(1);
    }
    console.log('schema/schema.graphql is up to date');
    return;
  }
  writeFileSync(file, printed);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

if (require.main === module) void main();
