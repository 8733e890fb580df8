/**
 * The platform's event stream (/api/v1/events, Server-Sent Events; the
 * browser sends the session cookie): one EventSource for the whole page,
 * handed out by event name. The browser reconnects by itself; on every
 * (re)connection listeners of 'open' refetch what they show, since events
 * sent while the stream was down are gone.
 */
type Listener = (payload: any) => void;

const listeners = new Map<string, Set<Listener>>();
let source: EventSource | undefined;
let connected = false;
const named = new Set<string>();

function attach(name: string): void {
  if (!source || named.has(name) || name === 'open' || name === 'status') return;
  named.add(name);
  source.addEventListener(name, (event) => {
    let payload: unknown;
    try {
      payload = JSON.parse((event as MessageEvent<string>).data);
    } catch {
      return;
    }
    for (const listener of listeners.get(name) ?? []) listener(payload);
  });
}

function announce(name: 'open' | 'status', payload: unknown): void {
  for (const listener of listeners.get(name) ?? []) listener(payload);
}

export function startEvents(): void {
  if (source) return;
  source = new EventSource('/api/v1/events');
  named.clear();
  for (const name of listeners.keys()) attach(name);
  source.onopen = () => {
    connected = true;
    announce('status', true);
    announce('open', undefined);
  };
  source.onerror = () => {
    connected = false;
    announce('status', false);
    // Closed for good (the stream answered other than 200: signed out, a restarted daemon forgot the session): not retried by the browser.
    if (source?.readyState === EventSource.CLOSED) {
      source = undefined;
      onClosed();
    }
  };
}

let onClosed: () => void = () => {};
/** Called when the browser gave up on the stream (it retries a dropped connection itself, not a refusal). */
export function whenEventsClosed(listener: () => void): void {
  onClosed = listener;
}

export function stopEvents(): void {
  source?.close();
  source = undefined;
  connected = false;
  announce('status', false);
}

export const eventsConnected = () => connected;

/** Listens to an event ('open': the stream (re)connected; 'status': connected or not); returns the way to stop. */
export function onEvent(name: string, listener: Listener): () => void {
  let set = listeners.get(name);
  if (!set) listeners.set(name, (set = new Set()));
  set.add(listener);
  attach(name);
  return () => set!.delete(listener);
}
