// The drain before a replica stops: it stays up and answers everything, but
// /readyz says "draining" so health checks take it out of the proxy's pool,
// and every response closes its connection, so no proxy or client keeps a
// connection it could send one more request on just as the replica stops
// listening (a POST written to such a connection can be neither answered nor
// safely retried).
import { Elysia } from "elysia";

export class Drain {
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  begin(): void {
    this.#draining = true;
  }
}

/** Adds `Connection: close` to every response while draining. */
export function closeConnectionsWhileDraining(drain: Drain) {
  return new Elysia({ name: "drain-connections" }).onRequest(({ set }) => {
    if (drain.draining) set.headers.connection = "close";
  });
}
