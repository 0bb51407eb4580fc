// A per-client token bucket: each client may make `burst` requests at once
// and `perSecond` more every second. Memory is bounded: idle buckets are
// dropped first when the table is full.

const MAX_CLIENTS = 50_000;

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  /** Takes one token for `client`; returns 0 when allowed, else seconds to wait. */
  take(client: string): number {
    if (!this.enabled) return 0;
    const t = this.now();
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, updated: t };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((t - bucket.updated) / 1000) * this.perSecond);
    bucket.updated = t;
    // Re-inserting keeps the map in least-recently-used order for pruning.
    this.buckets.delete(client);
    if (this.buckets.size >= MAX_CLIENTS) this.prune();
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  private prune(): void {
    let drop = this.buckets.size - MAX_CLIENTS / 2;
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}
