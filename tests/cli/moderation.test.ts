// Moderation from the binary: `flag` hides a message everywhere, `unflag`
// brings it back, and bad ids change nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { runMinitwit } from "../support/cli";
import { apiClient, startTestServer, type TestServer } from "../support/server";
import { webClient } from "../support/web-client";

let server: TestServer;
let messageId: number;
const SECRET = "the moderated message";

const cli = (...args: string[]) =>
  runMinitwit(args, { DATABASE_URL: server.config.databaseUrl as string, USER: "moderator-1", LOG_LEVEL: "info" });

beforeAll(async () => {
  server = await startTestServer("postgres");
  const api = apiClient(server.api);
  for (const name of ["author", "fan"])
    await api.post("/register", { username: name, email: `${name}@x.dk`, pwd: "pw" });
  await api.post("/fllws/fan", { follow: "author" });
  await api.post("/msgs/author", { content: "an ordinary message" });
  await api.post("/msgs/author", { content: SECRET });
  const listed = JSON.parse((await cli("messages", "--user", "author", "--json")).stdout);
  messageId = listed[0].messageId;
});
afterAll(() => server.stop());

/** Every place a message shows up: public, author's page, a follower's timeline, both API reads. */
async function visibleIn(): Promise<Record<string, boolean>> {
  const api = apiClient(server.api);
  const fan = webClient(server.web);
  await webClient(server.web).register("fan-web", "secret");
  await fan.register("fan2", "secret");
  await fan.login("fan2", "secret");
  await fan.get("/author/follow");
  return {
    public: (await fan.get("/public")).body.includes(SECRET),
    authorPage: (await fan.get("/author")).body.includes(SECRET),
    myTimeline: (await fan.get("/")).body.includes(SECRET),
    apiMsgs: JSON.stringify((await api.get("/msgs")).json).includes(SECRET),
    apiUserMsgs: JSON.stringify((await api.get("/msgs/author")).json).includes(SECRET),
  };
}
const everywhere = (v: boolean) => ({ public: v, authorPage: v, myTimeline: v, apiMsgs: v, apiUserMsgs: v });

describe("flag and unflag", () => {
  test("messages lists newest first with id, author, date and flag", async () => {
    const res = await cli("messages", "--user", "author");
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(`^${messageId}\\tauthor\\t\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\t-\\t${SECRET}$`),
    );
    expect(lines[1]).toContain("an ordinary message");
  });

  test("a flagged message vanishes from every timeline and the API; unflag brings it back", async () => {
    expect(await visibleIn()).toEqual(everywhere(true));
    const flagged = await cli("flag", String(messageId));
    expect(flagged).toMatchObject({ code: 0, stdout: `flagged ${messageId}\n` });
    expect(flagged.stdout + flagged.stderr).not.toContain("error");
    expect(await visibleIn()).toEqual(everywhere(false));
    expect((await cli("messages", "--flagged")).stdout).toContain(`${messageId}\tauthor`);
    // Again: nothing to do, said so, still exit 0.
    expect(await cli("flag", String(messageId))).toMatchObject({ code: 0, stdout: `already flagged ${messageId}\n` });
    expect(await cli("unflag", String(messageId))).toMatchObject({ code: 0, stdout: `unflagged ${messageId}\n` });
    expect(await visibleIn()).toEqual(everywhere(true));
  }, 60_000);

  test("each change is logged with the message id and the operator", async () => {
    const res = await cli("flag", String(messageId));
    expect(res.stdout).toBe(`flagged ${messageId}\n`);
    const line = res.stderr.split("\n").find((l) => l.includes('"msg":"message flagged"'));
    expect(JSON.parse(line as string)).toMatchObject({ messageId, action: "flag", operator: "moderator-1" });
    await cli("unflag", String(messageId));
  });

  test("the changes are counted in the running server's metrics", async () => {
    const text = await (await fetch(`${server.metrics}/metrics`)).text();
    const count = (action: string) =>
      Number(new RegExp(`^minitwit_moderation_actions\\{action="${action}"\\} (\\d+)`, "m").exec(text)?.[1]);
    // The tests above flagged twice (and once more a flagged message, which changed nothing) and unflagged twice.
    expect(count("flag")).toBe(2);
    expect(count("unflag")).toBe(2);
  });

  test("a flag of a flagged message or an unflag of a shown one records no event and logs no change", async () => {
    const events = async () => {
      const sql = postgres(server.config.databaseUrl as string, { max: 1 });
      const [row] = await sql`select count(*)::int as n from moderation_events where message_id = ${messageId}`;
      await sql.end();
      return row?.n as number;
    };
    const before = await events();
    const unflag = await cli("unflag", String(messageId));
    expect(unflag).toMatchObject({ code: 0, stdout: `already unflagged ${messageId}\n` });
    expect(unflag.stderr).not.toContain("message unflagged");
    expect(await events()).toBe(before);
    expect((await cli("flag", String(messageId), String(messageId))).stdout).toBe(`flagged ${messageId}\n`);
    const again = await cli("flag", String(messageId));
    expect(again).toMatchObject({ code: 0, stdout: `already flagged ${messageId}\n` });
    expect(again.stderr).not.toContain("message flagged");
    expect(await events()).toBe(before + 1);
    await cli("unflag", String(messageId));
    expect(await events()).toBe(before + 2);
  });

  test("an unknown id is reported and exits 1; the known ones still change", async () => {
    const res = await cli("flag", String(messageId), "999999");
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`flagged ${messageId}\n`);
    expect(res.stdout).toContain("no such message 999999\n");
    await cli("unflag", String(messageId));
  });

  test.each([["abc"], ["0"], ["-3"], ["1.5"], ["99999999999"]])(
    "%s is not an id: exit 2 and nothing changes",
    async (bad) => {
      const res = await cli("flag", String(messageId), bad);
      expect(res.code).toBe(2);
      // "-3" is refused by the flag parser as an unknown option; also exit 2.
      if (!bad.startsWith("-")) expect(res.stderr).toContain("not a message id");
      expect(res.stderr).toContain("Try: minitwit flag --help");
      expect((await cli("messages", "--flagged")).stdout.trim()).toBe("no messages");
    },
  );

  test("flag with no ids is a usage error", async () => {
    expect((await cli("flag")).code).toBe(2);
    expect((await cli("messages", "--limit", "0")).code).toBe(2);
  });
});
