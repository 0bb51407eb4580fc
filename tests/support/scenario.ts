// The course simulator's workload (tests/fixtures/minitwit_scenario.csv):
// tab-separated, no header. Shared by the replay test and the benchmark.
import { join } from "node:path";

export type Action =
  | { id: number; command: "register"; user: string; email: string; pwd: string }
  | { id: number; command: "tweet"; user: string; content: string }
  | { id: number; command: "follow" | "unfollow"; user: string; target: string };

export const SCENARIO_PATH = join(import.meta.dir, "..", "fixtures", "minitwit_scenario.csv");

export async function loadScenario(limit = Number.POSITIVE_INFINITY): Promise<Action[]> {
  const lines = (await Bun.file(SCENARIO_PATH).text()).split("\n").filter((l) => l !== "");
  return lines.slice(0, limit).map(parseLine);
}

function parseLine(line: string): Action {
  const [id, , , command, user, a = "", b = ""] = line.split("\t");
  const base = { id: Number(id), user: user as string };
  switch (command) {
    case "register":
      return { ...base, command, email: a, pwd: b };
    case "tweet":
      return { ...base, command, content: a };
    case "follow":
    case "unfollow":
      return { ...base, command, target: a };
    default:
      throw new Error(`unknown scenario command ${command} in: ${line}`);
  }
}

/** The request the simulator sends for an action. */
export function toRequest(action: Action): { path: string; body: unknown } {
  const user = encodeURIComponent(action.user);
  switch (action.command) {
    case "register":
      return {
        path: `/register?latest=${action.id}`,
        body: { username: action.user, email: action.email, pwd: action.pwd },
      };
    case "tweet":
      return { path: `/msgs/${user}?latest=${action.id}`, body: { content: action.content } };
    default:
      return { path: `/fllws/${user}?latest=${action.id}`, body: { [action.command]: action.target } };
  }
}
