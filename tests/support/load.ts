// The simulator's traffic at full speed: writers that post a numbered message
// as soon as the previous one is answered, and readers of the web and API
// timelines beside them. Every request's outcome is kept, with when it
// started, so a test can say which failed and when.
import { SIMULATOR_AUTH } from "./server";

export interface Outcome {
  readonly kind: "write" | "read";
  /** The message posted (writes only). */
  readonly content: string | null;
  /** The HTTP status, or the error when no response came. */
  readonly result: number | string;
  readonly started: number;
}

export const isFailure = (o: Outcome) => o.result !== (o.kind === "write" ? 204 : 200);

async function send(url: string, init?: RequestInit): Promise<number | string> {
  try {
    const res = await fetch(url, init);
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Writers post as `users` (one each) through `api`; `readers` alternate between `web` /public and `api` /msgs. */
export function startLoad(target: { api: string; web: string }, users: string[], readers: number) {
  let running = true;
  const outcomes: Outcome[] = [];
  const writer = async (user: string) => {
    for (let n = 0; running; n++) {
      const content = `${user} message ${n}`;
      const started = Date.now();
      const result = await send(`${target.api}/msgs/${user}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: SIMULATOR_AUTH },
        body: JSON.stringify({ content }),
      });
      outcomes.push({ kind: "write", content, result, started });
    }
  };
  const reader = async () => {
    for (let n = 0; running; n++) {
      const started = Date.now();
      const result =
        n % 2 === 0
          ? await send(`${target.web}/public`)
          : await send(`${target.api}/msgs?no=20`, { headers: { authorization: SIMULATOR_AUTH } });
      outcomes.push({ kind: "read", content: null, result, started });
    }
  };
  const done = Promise.all([...users.map(writer), ...Array.from({ length: readers }, reader)]);
  return {
    outcomes,
    async stop(): Promise<Outcome[]> {
      running = false;
      await done;
      return outcomes;
    },
  };
}
