// Prisma CLI configuration. DATABASE_URL is read directly (not env()) so that
// `prisma generate` works in a fresh checkout where it is unset.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/hookd' },
});
