// Preloaded by `bun test` (bunfig.toml): stops every Postgres the run started.
import { afterAll } from "bun:test";
import { stopAllClusters } from "./postgres";

afterAll(async () => {
  await stopAllClusters();
});
