// `minitwit check-allow <address>`: would SIMULATOR_ALLOW let this address
// use the API? For checking a list before deploying it, so the real
// simulator is never locked out by surprise.
import { inRanges, parseIp } from "../config/cidr";
import { UsageError } from "../errors";
import { defineCommand } from "./command";

export const checkAllow = defineCommand({
  name: "check-allow",
  summary: "say whether an address may use the simulator API (SIMULATOR_ALLOW)",
  settings: ["server"],
  usage: `Usage: minitwit check-allow <address>...

Says for each address whether the simulator API would accept requests from
it under the current SIMULATOR_ALLOW (a comma-separated CIDR list; unset
means every address is allowed). Exits 0 when every address passes, 1 when
any would be refused.

Behind a reverse proxy, the address that counts is the client's as
forwarded by a proxy in TRUSTED_PROXIES, not the proxy's own.`,
  options: {},
  positionals: true,
  async run({ config, args, out }) {
    if (args.length === 0) throw new UsageError("give at least one address", "check-allow");
    const invalid = args.filter((a) => parseIp(a) === null);
    if (invalid.length > 0) throw new UsageError(`not an IP address: ${invalid.join(", ")}`, "check-allow");
    const allow = config.security.simulatorAllow;
    let refused = 0;
    for (const address of args) {
      if (allow === null) {
        out(`allowed ${address} (SIMULATOR_ALLOW is not set: every address may use the API)`);
      } else if (inRanges(address, allow)) {
        const range = allow.find((r) => inRanges(address, [r]));
        out(`allowed ${address} (in ${range?.text})`);
      } else {
        refused++;
        out(`refused ${address} (not in SIMULATOR_ALLOW=${allow.map((r) => r.text).join(",")})`);
      }
    }
    return refused === 0 ? 0 : 1;
  },
});
