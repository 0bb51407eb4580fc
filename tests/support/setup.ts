// Preloaded by `bun test` (bunfig.toml): the suite's timeout, and stopping
// every Postgres the run started.
import { afterAll, setDefaultTimeout } from "bun:test";
import { stopAllClusters } from "./postgres";

// Starting a database or a server takes seconds on a busy machine. Bun's
// default of 5 s applies to hooks too, and neither bunfig's `timeout` nor
// anything but this call or the `--timeout` flag changes that; set here, it
// holds for `bun test <file>` as for `bun run test`.
setDefaultTimeout(60_000);

afterAll(async () => {
  await stopAllClusters();
});
