/**
 * Whether the platform still runs, shared by its parts: once closed nothing
 * new starts, and once state.db is closed nothing writes it.
 */
export class Lifecycle {
  closed = false;
  stateOpen = true;
  /** Aborts prepare steps and commands still running when the platform closes. */
  private readonly aborter = new AbortController();

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  close(): void {
    this.closed = true;
    this.aborter.abort();
  }
}
