import { useState } from 'preact/hooks';

/**
 * Asks for the name of what is about to be destroyed, as the API does
 * ({confirm: name}): the button only works once the name is typed.
 */
export function TypedConfirm({ what, name, onConfirm, onCancel }: { what: string; name: string; onConfirm: (typed: string) => void; onCancel: () => void }) {
  const [typed, setTyped] = useState('');
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-label={`Destroy ${name}`}>
      <form
        class="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (typed === name) onConfirm(typed);
        }}
      >
        <h3>Destroy {what}?</h3>
        <p>
          This deletes <b>{name}</b> and all its data. Type <code>{name}</code> to confirm.
        </p>
        <input autoFocus value={typed} onInput={(event) => setTyped((event.target as HTMLInputElement).value)} aria-label="name to confirm" spellcheck={false} />
        <div class="buttons">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={typed !== name}>
            Destroy
          </button>
        </div>
      </form>
    </div>
  );
}
