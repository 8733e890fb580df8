import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../lib/api.js';

interface Toast {
  id: number;
  kind: 'ok' | 'bad';
  text: string;
  hint?: string;
}

let next = 1;
const listeners = new Set<(toasts: Toast[]) => void>();
let toasts: Toast[] = [];

function publish(): void {
  for (const listener of listeners) listener(toasts);
}

/** Says how an action went, for a few seconds (an error stays until closed). */
export function toast(kind: Toast['kind'], text: string, hint?: string): void {
  const item = { id: next++, kind, text, hint };
  toasts = [...toasts.slice(-3), item];
  publish();
  if (kind === 'ok')
    setTimeout(() => {
      toasts = toasts.filter((candidate) => candidate !== item);
      publish();
    }, 4000);
}

/** Runs an action of the page and says how it went; the API's refusal is shown with its hint. */
export async function act<T>(what: string, run: () => Promise<T>, said?: (value: T) => string): Promise<T | undefined> {
  try {
    const value = await run();
    toast('ok', said ? said(value) : `${what}: done`);
    return value;
  } catch (error) {
    if (error instanceof ApiError) toast('bad', `${what}: ${error.message}`, error.hint);
    else toast('bad', `${what}: ${(error as Error).message}`);
    return undefined;
  }
}

export function Toasts() {
  const [list, setList] = useState(toasts);
  useEffect(() => {
    listeners.add(setList);
    return () => void listeners.delete(setList);
  }, []);
  return (
    <div class="toasts" aria-live="polite">
      {list.map((item) => (
        <div key={item.id} class={`toast toast-${item.kind}`} role={item.kind === 'bad' ? 'alert' : 'status'}>
          <div>
            {item.text}
            {item.hint && <div class="hint">{item.hint}</div>}
          </div>
          <button
            class="link"
            aria-label="close"
            onClick={() => {
              toasts = toasts.filter((candidate) => candidate !== item);
              publish();
            }}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
