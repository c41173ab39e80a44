// Small hooks shared by the pages.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type RefObject } from 'react';
import { useClient, type AnyVariables, type TypedDocumentNode } from 'urql';
import type { ConnectionState } from './client.ts';

export interface Connection {
  state: ConnectionState;
  /** Goes up by one each time the socket connects again after a drop. */
  reconnects: number;
}

export const ConnectionContext = createContext<Connection>({ state: 'reconnecting', reconnects: 0 });

export function useConnection(): Connection {
  return useContext(ConnectionContext);
}

/** Calls `callback` every `ms` while mounted (and `ms` is not null); the latest callback is used. */
export function useInterval(callback: () => void, ms: number | null): void {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    if (ms == null) return;
    const timer = setInterval(() => saved.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

/**
 * A function that calls `callback` once things go quiet for `delayMs`, and at least every
 * `maxWaitMs` while calls keep coming: attempts arriving in a burst make one refetch.
 */
export function useCoalescedCallback(callback: () => void, delayMs: number, maxWaitMs: number): () => void {
  const saved = useRef(callback);
  saved.current = callback;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const firstCall = useRef(0);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    const now = Date.now();
    if (timer.current) clearTimeout(timer.current);
    else firstCall.current = now;
    const wait = Math.max(0, Math.min(delayMs, firstCall.current + maxWaitMs - now));
    timer.current = setTimeout(() => {
      timer.current = null;
      saved.current();
    }, wait);
  }, [delayMs, maxWaitMs]);
}

/** Runs `callback` each time the socket reconnects (not on the first connection). */
export function useOnReconnect(callback: () => void): void {
  const { reconnects } = useConnection();
  const saved = useRef(callback);
  saved.current = callback;
  const first = useRef(reconnects);
  useEffect(() => {
    if (reconnects !== first.current) saved.current();
  }, [reconnects]);
}

/**
 * Subscribes to a GraphQL subscription and hands each result's data to `onData` (the latest
 * one), without keeping state of its own: the caller decides what to keep.
 */
export function useLiveSubscription<Data, Variables extends AnyVariables>(
  query: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  onData: (data: Data) => void,
  { pause = false }: { pause?: boolean } = {},
): void {
  const client = useClient();
  const saved = useRef(onData);
  saved.current = onData;
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (pause) return;
    const { unsubscribe } = client.subscription(query, JSON.parse(key) as Variables).subscribe((result) => {
      if (result.data) saved.current(result.data);
    });
    return unsubscribe;
  }, [client, query, key, pause]);
}

/** The width of an element in CSS pixels, following resizes; `fallback` before it is measured. */
export function useElementWidth<T extends HTMLElement>(fallback: number): [RefObject<T | null>, number] {
  const ref = useRef<T | null>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const measure = () => setWidth(Math.max(120, Math.floor(element.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/** Sets the document title while mounted. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · hookd` : 'hookd';
  }, [title]);
}

/** Refetches from the network each time `signal` changes after the first render. */
export function useRefresh(signal: number, reexecute: (options: { requestPolicy: 'network-only' }) => void): void {
  const first = useRef(signal);
  const saved = useRef(reexecute);
  saved.current = reexecute;
  useEffect(() => {
    if (signal !== first.current) saved.current({ requestPolicy: 'network-only' });
  }, [signal]);
}
