import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api.js';
import { onEvent } from './events.js';

export interface Live<T> {
  data: T | undefined;
  error: Error | undefined;
  /** When `data` arrived (epoch ms). */
  at: number;
  reload: () => void;
}

/**
 * GET `path`, again whenever one of `events` arrives (at most once per
 * `settle` ms, so a burst of instance.state events is one request) and on
 * every reconnection of the stream. `path` null: nothing to load yet.
 * `accept` picks the events that concern this view (e.g. this app's).
 */
export function useLive<T>(path: string | null, events: string[], accept: (payload: any) => boolean = () => true, settle = 150): Live<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [at, setAt] = useState(0);
  const latest = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const acceptRef = useRef(accept);
  acceptRef.current = accept;

  const load = useCallback(() => {
    if (path === null) return;
    const ticket = ++latest.current;
    get<T>(path).then(
      (value) => {
        if (ticket !== latest.current) return;
        setData(value);
        setAt(Date.now());
        setError(undefined);
      },
      (failure: Error) => ticket === latest.current && setError(failure),
    );
  }, [path]);

  useEffect(() => {
    setData(undefined);
    load();
    const soon = () => {
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = undefined;
        load();
      }, settle);
    };
    const offs = [onEvent('open', soon), ...events.map((name) => onEvent(name, (payload) => acceptRef.current(payload) && soon()))];
    return () => {
      offs.forEach((off) => off());
      if (timer.current) clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [path, events.join(','), load]);

  return { data, error, at, reload: load };
}

/** Re-renders every `ms` (for "3 s ago" and uptimes). */
export function useTick(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}
