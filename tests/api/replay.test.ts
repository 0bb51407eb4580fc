// Replays the start of the simulator's real workload as the simulator does
// (one POST at a time, `?latest=<id>`) and checks every answer, then compares
// what the API reports with a model of the scenario computed here.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadScenario, toRequest } from "../support/scenario";
import { apiClient, SIMULATOR_AUTH, startTestServer, type TestServer } from "../support/server";

const ROWS = 2000;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer("postgres");
}, 120_000);
afterAll(() => server.stop());

test(`the first ${ROWS} scenario rows replay with no error and the API agrees with a model`, async () => {
  const actions = await loadScenario(ROWS);
  const registered: string[] = [];
  const tweets = new Map<string, string[]>();
  const follows = new Map<string, Set<string>>();
  const errors: string[] = [];

  for (const action of actions) {
    const { path, body } = toRequest(action);
    const res = await fetch(server.api + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: SIMULATOR_AUTH, connection: "close" },
      body: JSON.stringify(body),
    });
    const repeatedRegister = action.command === "register" && registered.includes(action.user);
    const accepted = res.status === 204 || (action.command === "register" && res.status === 400);
    if (!accepted) errors.push(`${action.id} ${action.command}: ${res.status} ${await res.text()}`);
    if (repeatedRegister) expect(res.status).toBe(400);
    // The model of what the database should now hold.
    if (action.command === "register" && !repeatedRegister) registered.push(action.user);
    if (action.command === "tweet") tweets.set(action.user, [...(tweets.get(action.user) ?? []), action.content]);
    if (action.command === "follow")
      follows.set(action.user, (follows.get(action.user) ?? new Set()).add(action.target));
    if (action.command === "unfollow") follows.get(action.user)?.delete(action.target);
  }
  expect(errors).toEqual([]);

  const api = apiClient(server.api);
  expect((await api.get("/latest")).json).toEqual({ latest: actions.at(-1)?.id });

  const all = [...tweets.values()].flat().length;
  const publicMsgs = (await api.get(`/msgs?no=${all + 10}`)).json as { content: string; user: string }[];
  expect(publicMsgs).toHaveLength(all);

  for (const user of registered) {
    const name = encodeURIComponent(user);
    const own = (await api.get(`/msgs/${name}?no=1000`)).json as { content: string }[];
    expect(own.map((m) => m.content)).toEqual([...(tweets.get(user) ?? [])].reverse());
    // Follow order is by the followed user's id, i.e. registration order here.
    const expected = registered.filter((u) => follows.get(user)?.has(u));
    expect((await api.get(`/fllws/${name}?no=1000`)).json).toEqual({ follows: expected });
  }
}, 120_000);
