// Writes schema.graphql from the code, sorted, so the contract's changes show in review.
// `--stdout` prints it instead (the drift test compares that with the committed file).
import { writeFileSync } from 'node:fs';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../server/schema/index.ts';

const printed = `${printSchema(lexicographicSortSchema(schema))}\n`;

if (process.argv.includes('--stdout')) {
  process.stdout.write(printed);
} else {
  writeFileSync(new URL('../schema.graphql', import.meta.url), printed);
  console.log('wrote schema.graphql');
}
