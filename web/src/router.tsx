// A small router on history.pushState and popstate: real links, no dependency.
import { useCallback, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const NAVIGATE_EVENT = 'hookd:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

const getHref = () => window.location.pathname + window.location.search;

export interface Location {
  pathname: string;
  search: URLSearchParams;
}

/** The current path and query; re-renders on navigation. */
export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, getHref, () => '/');
  const url = new URL(href, 'http://localhost');
  return { pathname: url.pathname, search: url.searchParams };
}

export function navigate(to: string, { replace = false }: { replace?: boolean } = {}): void {
  if (to === getHref()) return;
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** Changes one query parameter in place (no new history entry): for filters. */
export function useSearchParam(name: string): [string | null, (value: string | null) => void] {
  const { search } = useLocation();
  const set = useCallback(
    (value: string | null) => {
      const url = new URL(window.location.href);
      if (value == null || value === '') url.searchParams.delete(name);
      else url.searchParams.set(name, value);
      navigate(url.pathname + url.search, { replace: true });
    },
    [name],
  );
  return [search.get(name), set];
}

export type Route =
  | { name: 'subscriptions' }
  | { name: 'subscription'; id: string }
  | { name: 'event'; id: string }
  | { name: 'live' }
  | { name: 'not-found'; path: string };

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'subscriptions' };
  if (path === '/live') return { name: 'live' };
  let match = /^\/subscriptions\/([^/]+)$/.exec(path);
  if (match?.[1]) return { name: 'subscription', id: decodeURIComponent(match[1]) };
  match = /^\/events\/([^/]+)$/.exec(path);
  if (match?.[1]) return { name: 'event', id: decodeURIComponent(match[1]) };
  return { name: 'not-found', path };
}

export const paths = {
  subscriptions: () => '/',
  subscription: (id: string) => `/subscriptions/${encodeURIComponent(id)}`,
  event: (id: string) => `/events/${encodeURIComponent(id)}`,
  live: () => '/live',
};

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string };

/** An `<a href>` that navigates in place on a plain left click and behaves natively otherwise. */
export function Link({ href, onClick, ...rest }: LinkProps) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey ||
      (rest.target && rest.target !== '_self')
    ) {
      return;
    }
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handleClick} {...rest} />;
}
