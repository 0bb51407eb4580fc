// Which driver errors mean "the database cannot be reached" (503, retry)
// rather than a bug (500). The shapes are the ones Bun's resolver and
// postgres.js produce, wrapped the way drizzle wraps a failed query.
import { expect, test } from "bun:test";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { isDatabaseUnavailable } from "../../src/database/faults";

/** A resolver failure as Bun reports it (`getaddrinfo EAI_AGAIN postgres`), inside drizzle's error. */
function lookupFailure(code: string): Error {
  const dns = Object.assign(new Error(`getaddrinfo ${code} postgres`), {
    name: "DNSException",
    code,
    syscall: "getaddrinfo",
  });
  return new DrizzleQueryError("insert into messages ...", [], dns);
}

test("a name the resolver cannot look up right now (a stopped Swarm service) is unavailability", () => {
  expect(isDatabaseUnavailable(lookupFailure("EAI_AGAIN"))).toBe(true);
  expect(isDatabaseUnavailable(lookupFailure("ENOTFOUND"))).toBe(true);
});

test("any getaddrinfo failure is unavailability, whatever code the resolver chose", () => {
  expect(isDatabaseUnavailable(lookupFailure("EAI_SOMETHING_NEW"))).toBe(true);
});

test("a real lookup failure from Bun's resolver is recognised", async () => {
  const err = await Bun.dns.lookup("no-such-host.invalid", { backend: "system" }).catch((e: unknown) => e);
  expect(isDatabaseUnavailable(new DrizzleQueryError("select 1", [], err as Error))).toBe(true);
});

test("a refused or dropped connection is unavailability; a bug is not", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED", syscall: "connect" });
  expect(isDatabaseUnavailable(new DrizzleQueryError("select 1", [], refused))).toBe(true);
  expect(isDatabaseUnavailable(new DrizzleQueryError("select 1", [], new TypeError("x is undefined")))).toBe(false);
  const syntax = Object.assign(new Error("syntax error"), { code: "42601" });
  expect(isDatabaseUnavailable(new DrizzleQueryError("selec 1", [], syntax))).toBe(false);
});
