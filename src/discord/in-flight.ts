/**
 * Work the bot has accepted and not finished yet, so a shutdown can stop taking new questions, let the
 * answers being written finish, and only then disconnect.
 */
export class InFlight {
  readonly #pending = new Set<Promise<unknown>>();
  #accepting = true;

  /** False once `close()` was called: new questions are turned away. */
  get accepting(): boolean {
    return this.#accepting;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Tracks a piece of work until it settles. Its failure is the caller's to handle. */
  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
    return work;
  }

  close(): void {
    this.#accepting = false;
  }

  /** Resolves true when everything tracked has settled, false if `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      while (this.#pending.size > 0) {
        const finished = await Promise.race([Promise.all([...this.#pending]).then(() => true as const), timeout]);
        if (!finished) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
