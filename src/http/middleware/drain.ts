// The drain before a replica stops: it stays up and answers everything, but
// /readyz says "draining" so health checks take it out of the proxy's pool,
// and every response closes its connection, so no proxy or client keeps a
// connection it could send one more request on just as the replica stops
// listening (a POST written to such a connection can be neither answered nor
// safely retried). The guard (guard.ts) adds the header.
export class Drain {
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  begin(): void {
    this.#draining = true;
  }
}
