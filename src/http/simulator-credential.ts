// The simulator's credential check, shared by the API (which answers 403
// without it) and the guard (which exempts the simulator from the rate limit).
import { timingSafeEqual } from "node:crypto";

/** Checks an `Authorization` header against `Basic <token>` in constant time. */
export function simulatorAuthorizer(token: string): (header: string | null) => boolean {
  const expected = Buffer.from(`Basic ${token}`);
  return (header) => {
    if (header === null) return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
