// The simulator API (spec section 1). One plugin, mounted at the root of the
// API port and under /api on the web port.
import { Elysia, t } from "elysia";
import { signUp } from "../../accounts/signup";
import { followByName, followingNames, unfollowByName } from "../../store/followers";
import { postMessageByUsername, publicTimeline, type TimelineMessage, timelineByUsername } from "../../store/messages";
import { type AppDeps, unixNow } from "../deps";
import { fieldSchemas } from "../fields";
import { parseLatestAction } from "../latest-action";
import { apiError } from "../middleware/error-mapper";
import { pathOf } from "../middleware/request-origin";
import { signUpDoor } from "../signup-door";
import { simulatorAuthorizer } from "../simulator-credential";

const DEFAULT_NO = 100;
// A ceiling on `no` so one request cannot ask for the whole table.
const MAX_NO = 10_000;

const NOT_AUTHORIZED = "You are not authorized to use this resource!";

export function simulatorApi(deps: AppDeps, prefix: "" | "/api" = "") {
  const { db } = deps.database;
  const field = fieldSchemas(deps.config.security);
  const gate = apiGate(deps, prefix);
  const door = signUpDoor(deps);

  return (
    new Elysia({ name: `simulator-api${prefix}`, prefix })
      // Runs before routing, parsing and validation: `latest` is stored even
      // when the request then fails, and authorization is decided before the
      // body is looked at, as the simulator expects. Only a request with the
      // simulator's credential moves `latest`, so no stranger can.
      .onRequest(({ request }) => gate(request))
      .get("/latest", async () => ({ latest: await deps.latest.current() }))
      .post(
        "/register",
        async ({ body, set, request, server }) => {
          const counted = await door.admit(request, server, set.headers);
          const { username = "", email = "", pwd = "" } = body;
          const error = await signUp(db, { username, email, password: pwd });
          if (error !== null) {
            await door.giveBack(counted);
            return apiError(400, error);
          }
          deps.metrics.registrations.inc();
          set.status = 204;
        },
        {
          parse: "json",
          body: t.Object({
            username: t.Optional(field.username),
            email: t.Optional(field.email),
            pwd: t.Optional(field.password),
          }),
        },
      )
      .get("/msgs", async ({ query }) => (await publicTimeline(db, { limit: count(query.no) })).map(toApiMessage))
      .get("/msgs/:username", async ({ params, query }) => {
        const found = await timelineByUsername(db, params.username, count(query.no));
        if (found === null) return apiError(404, `User "${params.username}" not found`);
        return found.map(toApiMessage);
      })
      .post(
        "/msgs/:username",
        async ({ params, body, set }) => {
          if (!(await postMessageByUsername(db, params.username, body.content, unixNow(deps)))) {
            return apiError(404, `User "${params.username}" not found`);
          }
          deps.metrics.messagesPosted.inc();
          set.status = 204;
        },
        { parse: "json", body: t.Object({ content: field.message }) },
      )
      .get("/fllws/:username", async ({ params, query }) => {
        const follows = await followingNames(db, params.username, count(query.no));
        if (follows === null) return apiError(404, `User "${params.username}" not found`);
        return { follows };
      })
      .post(
        "/fllws/:username",
        async ({ params, body, set }) => {
          const refused = await changeFollow(deps, params.username, body);
          if (refused !== null) return refused;
          set.status = 204;
        },
        {
          parse: "json",
          body: t.Object({ follow: t.Optional(field.target), unfollow: t.Optional(field.target) }),
        },
      )
  );
}

/**
 * The hook in front of every API route: stores `?latest=` from requests with
 * the simulator's credential (the spec: a 403 or an anonymous sign-up stores
 * nothing) and refuses the routes that need the credential without it.
 */
export function apiGate(deps: AppDeps, prefix: string) {
  const authorized = simulatorAuthorizer(deps.config.simulatorToken);
  return (request: Request) => {
    const url = request.url;
    const path = pathOf(url);
    if (!path.startsWith(prefix) || path === `${prefix}/latest`) return;
    const route = path.slice(prefix.length);
    const simulator = authorized(request.headers.get("authorization"));
    const queryStart = url.indexOf("?");
    if (simulator && queryStart !== -1) {
      const value = parseLatestAction(new URLSearchParams(url.slice(queryStart + 1)).get("latest"));
      if (value !== null) deps.latest.record(value);
    }
    const needsAuth = route === "/msgs" || route.startsWith("/msgs/") || route.startsWith("/fllws/");
    if (needsAuth && !simulator) return apiError(403, NOT_AUTHORIZED);
  };
}

/** POST /fllws/<user>: follows or unfollows; an error response, or null when done. */
async function changeFollow(deps: AppDeps, username: string, body: { follow?: string; unfollow?: string }) {
  // When both keys are present, follow wins.
  const target = body.follow ?? body.unfollow;
  if (target === undefined) return apiError(400, "The request must contain either follow or unfollow");
  const change = body.follow !== undefined ? followByName : unfollowByName;
  const outcome = await change(deps.database.db, username, target);
  if (outcome === "unknown-user") return apiError(404, `User "${username}" not found`);
  if (outcome === "unknown-target") return apiError(404, `User "${target}" not found`);
  (body.follow !== undefined ? deps.metrics.follows : deps.metrics.unfollows).inc();
  return null;
}

function toApiMessage(m: TimelineMessage) {
  return { content: m.text, pub_date: m.pubDate, user: m.username };
}

/** `no` as the spec reads it: an integer, else 100. */
function count(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return DEFAULT_NO;
  return Math.min(Number(raw), MAX_NO);
}
