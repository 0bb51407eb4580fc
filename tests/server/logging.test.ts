// The log: one JSON access line per request with its id, errors once with
// their stack, LOG_LEVEL honoured, and no password, token or cookie in it.
import { afterEach, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { batchedLines, createLogger, type Logger } from "../../src/observability/log";
import { SIMULATOR_AUTH, startTestServer, type TestServer } from "../support/server";

type Line = Record<string, unknown> & { level: string; msg: string };

/** A logger writing into an array, as pino writes to stdout. */
function capture(level: Parameters<typeof createLogger>[0] = "trace"): {
  log: Logger;
  lines: Line[];
  text: () => string;
} {
  const raw: string[] = [];
  const log = createLogger(level, { write: (chunk: string) => void raw.push(chunk) });
  return {
    log,
    get lines() {
      return raw.map((l) => JSON.parse(l) as Line);
    },
    text: () => raw.join(""),
  };
}

let running: TestServer | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

const accessLines = (lines: Line[]) => lines.filter((l) => l.msg === "request");

/** A genuine server fault: the database answers, but the tables are gone. */
async function breakSchema(server: TestServer): Promise<void> {
  const sql = postgres(server.config.databaseUrl as string, { max: 1, onnotice: () => {} });
  await sql`drop table messages, followers, users cascade`;
  await sql.end();
}

describe("access lines", () => {
  test("each request writes one line with its id, method, route, path, status, duration and client", async () => {
    const out = capture("info");
    running = await startTestServer("postgres", {}, out.log);
    const res = await fetch(`${running.api}/msgs/nobody?no=3`, { headers: { authorization: SIMULATOR_AUTH } });
    expect(res.status).toBe(404);
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(accessLines(out.lines)).toEqual([
      expect.objectContaining({
        level: "info",
        reqId: id,
        method: "GET",
        route: "/msgs/:username",
        path: "/msgs/nobody",
        status: 404,
        ms: expect.any(Number),
        client: "127.0.0.1",
      }),
    ]);
  });

  test("an access line has the envelope of the logger's own lines, in their order", async () => {
    const out = capture("info");
    running = await startTestServer("postgres", {}, out.log);
    await (await fetch(`${running.api}/latest`)).arrayBuffer();
    const [access] = accessLines(out.lines);
    const own = out.lines.find((l) => l.msg === "minitwit is listening");
    if (access === undefined || own === undefined) throw new Error(`lines missing: ${out.text()}`);
    const ENVELOPE = ["level", "time", "service", "msg"];
    const envelope = (line: Line) => Object.keys(line).filter((k) => ENVELOPE.includes(k));
    expect(envelope(access)).toEqual(ENVELOPE);
    expect(envelope(own)).toEqual(ENVELOPE);
    expect(access.service).toBe(own.service);
    expect(Math.abs(Date.parse(access.time as string) - Date.now())).toBeLessThan(60_000);
  });

  test.each([
    ["a plain token is kept", "trace-42.abc:def", true],
    ["128 characters are kept", "a".repeat(128), true],
    ["129 characters are replaced", "a".repeat(129), false],
    ["spaces are replaced", "two words", false],
    ["quotes are replaced", 'x"y', false],
    ["non-ASCII is replaced", "idé", false],
  ])("an incoming X-Request-Id: %s", async (_, given, kept) => {
    const out = capture("info");
    running = await startTestServer("postgres", {}, out.log);
    const res = await fetch(`${running.api}/latest`, { headers: { "x-request-id": given } });
    const returned = res.headers.get("x-request-id");
    if (kept) expect(returned).toBe(given);
    else expect(returned).toMatch(/^[0-9a-f-]{36}$/);
    expect(accessLines(out.lines).map((l) => l.reqId)).toEqual([returned]);
  });
});

describe.each([
  ["warn", []],
  ["info", ["/api/latest"]],
  ["debug", ["/api/latest", "/healthz", "/metrics"]],
] as const)("LOG_LEVEL %s", (level, logged) => {
  test(`access lines written: ${logged.join(", ") || "none"}`, async () => {
    const out = capture(level);
    running = await startTestServer("postgres", {}, out.log);
    for (const path of ["/api/latest", "/healthz", "/metrics"]) {
      const base = path === "/metrics" ? running.metrics : running.web;
      expect((await fetch(base + path)).status).toBe(200);
    }
    expect(accessLines(out.lines).map((l) => l.path)).toEqual([...logged]);
  });
});

describe("secrets", () => {
  const PASSWORD = "pw-Secret-4711";
  const COOKIE = "session=Cookie-Secret-0815";

  test("passwords, the Authorization header and cookies never reach the log", async () => {
    const out = capture("trace");
    running = await startTestServer("postgres", {}, out.log);
    const headers = { "content-type": "application/json", authorization: SIMULATOR_AUTH, cookie: COOKIE };
    const post = (path: string, body: string) => fetch(running?.api + path, { method: "POST", headers, body });
    expect((await post("/register", JSON.stringify({ username: "a", email: "a@b", pwd: PASSWORD }))).status).toBe(204);
    expect((await post("/register", JSON.stringify({ username: "a", email: "a@b", pwd: PASSWORD }))).status).toBe(400);
    expect((await post("/register", `{"username":"b","pwd":"${PASSWORD}"`)).status).toBe(400);
    expect((await post("/msgs/a", JSON.stringify({ content: PASSWORD, pwd: PASSWORD }))).status).toBe(204);
    // A failure inside a handler: its error is logged with everything that helps, but not these.
    await breakSchema(running);
    expect((await post("/register", JSON.stringify({ username: "c", email: "c@d", pwd: PASSWORD }))).status).toBe(500);

    expect(accessLines(out.lines)).toHaveLength(5);
    expect(out.lines.filter((l) => l.level === "error")).toHaveLength(1);
    const text = out.text();
    for (const secret of [PASSWORD, SIMULATOR_AUTH.slice("Basic ".length), "Cookie-Secret-0815"]) {
      expect(text).not.toContain(secret);
    }
  });

  test.each([
    ["pwd", { pwd: PASSWORD }],
    ["password", { password: PASSWORD }],
    ["password2", { password2: PASSWORD }],
    ["a body's pwd", { body: { pwd: PASSWORD } }],
    ["a form's password", { form: { password: PASSWORD, password2: PASSWORD } }],
    ["the Authorization header", { headers: { authorization: `Basic ${PASSWORD}` } }],
    ["a request's Authorization header", { req: { headers: { authorization: `Basic ${PASSWORD}` } } }],
    ["a cookie", { headers: { cookie: `session=${PASSWORD}` } }],
    ["a request's cookie", { req: { headers: { cookie: `session=${PASSWORD}` } } }],
    ["a set-cookie header", { headers: { "set-cookie": `session=${PASSWORD}` } }],
  ])("the logger redacts %s", (_, fields) => {
    const out = capture("info");
    out.log.info(fields, "with a secret");
    expect(out.text()).not.toContain(PASSWORD);
    expect(out.text()).toContain("[redacted]");
  });
});

test("a server error is logged once, with its stack, under the id of its access line", async () => {
  const out = capture("info");
  running = await startTestServer("postgres", {}, out.log);
  await breakSchema(running);
  const res = await fetch(`${running.api}/msgs`, { headers: { authorization: SIMULATOR_AUTH } });
  expect(res.status).toBe(500);
  expect(await res.json()).toEqual({ status: 500, error_msg: "Internal server error" });
  const id = res.headers.get("x-request-id");

  const forRequest = out.lines.filter((l) => l.reqId === id);
  expect(forRequest.map((l) => [l.level, l.msg])).toEqual([
    ["error", "request failed"],
    ["info", "request"],
  ]);
  const [failure, access] = forRequest as [Line, Line];
  expect((failure.err as { stack?: string }).stack).toContain("\n    at ");
  expect(access).toMatchObject({ status: 500, route: "/msgs" });
  expect(access.err).toBeUndefined();
  expect(out.lines.filter((l) => l.level === "error")).toHaveLength(1);
});

describe("stdout is written in batches", () => {
  const line = (level: string, msg: string) => `${JSON.stringify({ level, time: "t", msg })}\n`;

  function sink() {
    const writes: string[] = [];
    return { writes, write: (text: string) => void writes.push(text) };
  }

  test("info lines wait for the flush interval, then go out in one write", async () => {
    const out = sink();
    const lines = batchedLines(out, 20);
    lines.write(line("info", "one"));
    lines.write(line("debug", "two"));
    expect(out.writes).toEqual([]);
    // Timers fire in the order of their deadlines: the flush's comes first.
    await Bun.sleep(60);
    expect(out.writes).toEqual([line("info", "one") + line("debug", "two")]);
  });

  test.each(["warn", "error", "fatal"])("a %s line goes out at once, after the lines held before it", (level) => {
    const out = sink();
    const lines = batchedLines(out, 60_000);
    lines.write(line("info", "before"));
    lines.write(line(level, "now"));
    expect(out.writes).toEqual([line("info", "before") + line(level, "now")]);
  });

  test("a full batch goes out without waiting", () => {
    const out = sink();
    const lines = batchedLines(out, 60_000);
    const long = line("info", "x".repeat(1_000));
    for (let i = 0; i < 20; i++) lines.write(long);
    expect(out.writes.length).toBe(1);
    expect(out.writes[0]?.split("\n").length).toBeGreaterThan(10);
  });

  test("lines logged just before the process exits reach stdout, in order", async () => {
    const script = [
      `import { createLogger } from ${JSON.stringify(`${import.meta.dir}/../../src/observability/log.ts`)};`,
      `const log = createLogger("info");`,
      `for (let i = 0; i < 5; i++) log.info({ i }, "last words");`,
      "process.exit(0);",
    ].join("\n");
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
    const text = await new Response(child.stdout).text();
    expect(await child.exited).toBe(0);
    const written = text
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(written).toEqual([0, 1, 2, 3, 4]);
  });
});
