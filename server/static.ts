// Serves the dashboard's build (web/dist) when it exists; the API works without it.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export const WEB_DIST = resolve(import.meta.dirname, '../web/dist');

/** A handler for GET requests under `root`, with index.html for client-side routes; null when there is no build. */
export function createStaticHandler(root = WEB_DIST): ((url: URL) => Promise<Response | null>) | null {
  if (!existsSync(join(root, 'index.html'))) return null;
  return async (url) => {
    const relative = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(root, relative);
    if (!file.startsWith(root)) return null;
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      // Paths with an extension are files that are missing; the others are the app's routes.
      if (extname(relative) !== '') return null;
      file = join(root, 'index.html');
    }
    const immutable = file.includes(`${join(root, 'assets')}`);
    return new Response(await readFile(file), {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      },
    });
  };
}
