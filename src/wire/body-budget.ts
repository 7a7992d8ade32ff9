/**
 * The request bodies ingest holds in memory at once, over all requests: a global budget, so
 * many slow or large uploads cannot take the process's memory even when each is under its
 * source's limit. Each request takes a lease, reserves what it reads (a declared length up
 * front) and gives it all back when it is answered. Our own, not rate-limiter-flexible: bytes
 * held now and given back, not a count per time window.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  lease(): BodyLease {
    return new BodyLease(this);
  }

  /** @internal */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** @internal */
  give(bytes: number): void {
    this.used -= bytes;
  }
}

export class BodyLease {
  private held = 0;

  constructor(private readonly budget: BodyBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Reserves `bytes` more; false (nothing reserved) when the budget cannot hold them. */
  take(bytes: number): boolean {
    if (!this.budget.tryTake(bytes)) return false;
    this.held += bytes;
    return true;
  }

  release(): void {
    this.budget.give(this.held);
    this.held = 0;
  }
}
