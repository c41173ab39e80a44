// The dashboard: a Vite app rooted here, built into web/dist, which the API server serves.
// `npm run dev` serves it with hot reload and proxies the API to the server on port 4000.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getIntrospectedSchema, minifyIntrospectionQuery } from '@urql/introspection';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const webDir = fileURLToPath(new URL('.', import.meta.url));
const schemaFile = fileURLToPath(new URL('../schema.graphql', import.meta.url));
const api = 'http://127.0.0.1:4000';

/**
 * `virtual:schema`: the minified introspection of ../schema.graphql, so Graphcache knows the
 * schema (unions, interfaces, nullability) without a network round-trip or a copied file.
 */
function schemaIntrospection(): Plugin {
  const id = 'virtual:schema';
  const resolved = `\0${id}`;
  return {
    name: 'hookd-schema-introspection',
    resolveId: (source) => (source === id ? resolved : null),
    load(loadId) {
      if (loadId !== resolved) return null;
      this.addWatchFile(schemaFile);
      const introspection = minifyIntrospectionQuery(getIntrospectedSchema(readFileSync(schemaFile, 'utf8')));
      return `export default ${JSON.stringify(introspection)};`;
    },
  };
}

export default defineConfig({
  root: webDir,
  publicDir: false,
  plugins: [react(), schemaIntrospection()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 800,
  },
  server: {
    port: 5173,
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/api': { target: api, changeOrigin: true },
      '/health': { target: api, changeOrigin: true },
      '/ready': { target: api, changeOrigin: true },
    },
  },
  preview: {
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/api': { target: api, changeOrigin: true },
    },
  },
});
