// The sign-up quota at the door, for the API and the web form alike: which
// requests count (not the simulator's, with its credential) and under which
// address (the client's, through trusted proxies). Over the quota a sign-up
// answers 429 with Retry-After and a message, before its fields are checked.
import { quotaMessage, SignUpQuota } from "../accounts/signup-quota";
import { HttpError } from "../errors";
import type { AppDeps } from "./deps";
import { clientAddress, type Peer } from "./middleware/request-origin";
import { simulatorAuthorizer } from "./simulator-credential";

export interface SignUpDoor {
  /**
   * Counts a sign-up; returns the address it was counted under (null for the
   * simulator), to give back if the sign-up then fails. Throws a 429
   * HttpError over the quota, after setting `retry-after` in `headers`.
   */
  admit(request: Request, server: Peer | null, headers: Record<string, string | number>): Promise<string | null>;
  /** Gives back the count of a sign-up that failed its checks. */
  giveBack(address: string | null): Promise<void>;
}

export function signUpDoor(deps: AppDeps): SignUpDoor {
  const quota = new SignUpQuota(deps.database.db, deps.config.security.signupLimitPerHour);
  const simulator = simulatorAuthorizer(deps.config.simulatorToken);
  const trusted = deps.config.trustedProxies;
  return {
    async admit(request, server, headers) {
      if (simulator(request.headers.get("authorization"))) return null;
      const address = clientAddress(server, request, trusted);
      const retryAfterS = await quota.take(address);
      if (retryAfterS === null) return address;
      headers["retry-after"] = String(retryAfterS);
      throw new HttpError(429, quotaMessage(retryAfterS));
    },
    async giveBack(address) {
      if (address !== null) await quota.giveBack(address);
    },
  };
}
