// The way off the embedded database, as the runbook gives it: an
// installation on PGlite is stopped, `minitwit backup --output FILE` copies
// it (taking the data-directory lock like every command), and
// `minitwit restore --file FILE` loads it into PostgreSQL. Users, follows,
// messages, flags and sessions all arrive: a user signs in with the old
// password, and a browser's session cookie still works once SESSION_SECRET
// is carried over from DATA_DIR/session-secret.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ageEnv, ageKey, contents } from "../support/backup";
import { runMinitwit } from "../support/cli";
import { freePort, freshDatabase } from "../support/postgres";
import { spawnServe } from "../support/serve-process";
import { apiClient } from "../support/server";
import { webClient } from "../support/web-client";

const dir = mkdtempSync(join(tmpdir(), "minitwit-embedded-move-"));
const dataDir = join(dir, "data");
const backupFile = join(dir, "embedded.sql.gz");
let sessionCookie = "";

/** One embedded installation with a bit of everything, then stopped. */
beforeAll(async () => {
  const [web, api] = [await freePort(), await freePort()];
  const server = spawnServe({ DATA_DIR: dataDir, PORT: String(web), API_PORT: String(api) });
  try {
    await server.ready(`http://127.0.0.1:${web}`, 60_000);
    const simulator = apiClient(`http://127.0.0.1:${api}`);
    for (const name of ["alice", "bob"]) {
      expect((await simulator.post("/register", { username: name, email: `${name}@x.org`, pwd: "pw" })).status).toBe(
        204,
      );
    }
    expect((await simulator.post("/fllws/alice", { follow: "bob" })).status).toBe(204);
    for (let i = 0; i < 5; i++) {
      expect((await simulator.post("/msgs/bob", { content: `bob says ${i}` })).status).toBe(204);
    }
    const browser = webClient(`http://127.0.0.1:${web}`);
    expect((await browser.login("alice", "pw")).status).toBe(200);
    sessionCookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  } finally {
    expect(await server.stop()).toBe(0);
  }
  expect((await runMinitwit(["flag", "1"], { DATA_DIR: dataDir, LOG_LEVEL: "silent" })).code).toBe(0);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("backup --output copies a stopped embedded installation into a file", async () => {
  const made = await runMinitwit(["backup", "--output", backupFile], { DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  expect(made.stderr).toBe("");
  expect(made.code).toBe(0);
  expect(made.stdout).toContain(`backed up to ${backupFile}`);
  const manifest = JSON.parse(readFileSync(backupFile.replace(/\.sql\.gz$/, ".manifest.json"), "utf8"));
  expect(manifest.tables).toMatchObject({ users: 2, followers: 1, messages: 5, moderation_events: 1, sessions: 1 });
}, 60_000);

test("restore --file loads it into PostgreSQL: everything arrives, and MiniTwit runs on it", async () => {
  const url = await freshDatabase();
  const restored = await runMinitwit(["restore", "--file", backupFile], { DATABASE_URL: url, LOG_LEVEL: "silent" });
  expect(restored.stderr).toBe("");
  expect(restored.code).toBe(0);
  const rows = await contents(url);
  expect(rows.users).toHaveLength(2);
  expect(rows.followers).toHaveLength(1);
  expect(rows.messages).toHaveLength(5);
  expect(rows.messages?.filter((m) => JSON.parse(m).flagged === true)).toHaveLength(1);
  expect(rows.sessions).toHaveLength(1);

  const [web, api] = [await freePort(), await freePort()];
  const sessionSecret = readFileSync(join(dataDir, "session-secret"), "utf8").trim();
  const server = spawnServe({
    DATABASE_URL: url,
    SESSION_SECRET: sessionSecret,
    PORT: String(web),
    API_PORT: String(api),
  });
  try {
    await server.ready(`http://127.0.0.1:${web}`, 60_000);
    // The browser signed in on the embedded database is still signed in.
    const page = await fetch(`http://127.0.0.1:${web}/`, { headers: { cookie: sessionCookie }, redirect: "manual" });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("bob says 4");
    // A password set on the embedded database signs in, and new ids follow the old ones.
    expect((await webClient(`http://127.0.0.1:${web}`).login("bob", "pw")).body).toContain("You were logged in");
    const simulator = apiClient(`http://127.0.0.1:${api}`);
    expect((await simulator.post("/register", { username: "cy", email: "c@x.org", pwd: "pw" })).status).toBe(204);
    expect((await simulator.post("/msgs/cy", { content: "first on PostgreSQL" })).status).toBe(204);
  } finally {
    await server.stop();
  }
}, 120_000);

test("an encrypted backup is not written under a plain .sql.gz name", async () => {
  const key = await ageKey();
  const misnamed = join(dir, "encrypted.sql.gz");
  const made = await runMinitwit(["backup", "--output", misnamed], {
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    ...ageEnv(key),
  });
  expect(made.code).toBe(2);
  expect(made.stderr).toContain("name the file");
  expect(made.stderr).toContain("encrypted.sql.gz.age");
  expect(existsSync(misnamed)).toBe(false);
}, 60_000);
