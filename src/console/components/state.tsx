/** A state as a coloured dot and its word: green running, amber on its way, red failing, grey stopped. */
export function tone(state: string | null | undefined): 'ok' | 'busy' | 'bad' | 'off' {
  switch (state) {
    case 'running':
    case 'success':
    case 'provisioned':
    case 'ok':
      return 'ok';
    case 'starting':
    case 'stopping':
    case 'backoff':
    case 'restarting':
    case 'waiting':
    case 'new':
    case 'preparing':
      return 'busy';
    case 'crashed':
    case 'failed':
    case 'aborted':
    case 'fatal':
      return 'bad';
    default:
      return 'off';
  }
}

export function StateBadge({ state }: { state: string | null | undefined }) {
  return (
    <span class={`state state-${tone(state)}`} data-state={state ?? ''}>
      <i />
      {state ?? '—'}
    </span>
  );
}
