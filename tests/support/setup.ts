// Preloaded by `bun test` (bunfig.toml): the suite's timeout, and stopping
// every Postgres the run started.
import { afterAll, setDefaultTimeout } from "bun:test";
import { stopAllClusters } from "./postgres";

// Starting a database or a server takes seconds on a busy machine, and Bun's
// default of 5 s applies to hooks too; bunfig has no setting for it. Called
// here, it holds for the first file of a run, so `bun test tests/<file>` gets
// the suite's timeout; a run of many files needs `--timeout`, which `bun run
// test` passes.
setDefaultTimeout(60_000);

afterAll(async () => {
  await stopAllClusters();
});
