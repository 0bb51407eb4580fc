// The web pages (spec section 2): timelines, following, posting. Sign-in and
// sign-up live in auth-pages.ts. Pages are plain HTML forms and links, so
// every page works without JavaScript.
import { Elysia, t } from "elysia";
import type { Viewer } from "../../../views/layout";
import { type TimelineKind, TimelinePage } from "../../../views/timeline";
import { HttpError } from "../../errors";
import { follow, isFollowing, unfollow } from "../../store/followers";
import {
  homeTimeline,
  type Page,
  postMessage,
  publicTimeline,
  type TimelineMessage,
  userTimeline,
} from "../../store/messages";
import { userByName } from "../../store/users";
import { type AppDeps, unixNow } from "../deps";
import { fieldSchemas } from "../fields";
import { isCrossSite, isHttps } from "../middleware/request-origin";
import { authPages } from "./auth-pages";
import { htmlResponses, type WebContext } from "./context";
import { FLASH_COOKIE, SESSION_COOKIE } from "./cookies";

export const PAGE_SIZE = 30;

const pageQuery = t.Object({ before: t.Optional(t.String()) });

type Jar = Parameters<WebContext["viewer"]>[0];

/** Reads `?before=<id>`: the keyset cursor of the page. */
function page(before: string | undefined): Page {
  const id = before !== undefined && /^\d{1,10}$/.test(before) ? Number(before) : undefined;
  return { limit: PAGE_SIZE, before: id };
}

// The GET links that change state: follow, unfollow, sign out.
const STATE_CHANGING_LINK = /\/(un)?follow$|^\/logout$/;
const LINK_FROM_ELSEWHERE = "This link works only from MiniTwit's own pages";
// Sec-Fetch-Site values of a request that MiniTwit's own page (same-origin)
// or the user (none: typed, bookmarked) made.
const OWN_REQUEST = new Set(["same-origin", "none"]);

/**
 * Whether a browser says a GET link came from another origin. A plain GET is
 * what any page can make a browser send (an `<img>`), and a sibling subdomain
 * is "same-site", which SameSite=Lax cookies and the cross-site check let
 * through. Requests without Fetch Metadata (scripts, the course's tests,
 * old browsers) pass, as the spec requires.
 */
function linkFromElsewhere(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  return site !== null && !OWN_REQUEST.has(site);
}

/** Whether the request carries one of MiniTwit's cookies (a session, or flashes that belong to one browser). */
function carriesOurCookie(request: Request): boolean {
  const header = request.headers.get("cookie");
  return header !== null && (header.includes(`${SESSION_COOKIE}=`) || header.includes(`${FLASH_COOKIE}=`));
}

export function webPages(deps: AppDeps, web: WebContext) {
  const trusted = deps.config.trustedProxies;
  return (
    new Elysia({ name: "web-pages" })
      .use(htmlResponses())
      // Forms and the follow links change state: refuse them cross-site, and
      // the links from anywhere but MiniTwit's own pages.
      .onBeforeHandle(({ request, route, server }) => {
        const link = request.method === "GET" && STATE_CHANGING_LINK.test(route);
        if ((link || request.method !== "GET") && isCrossSite(request, isHttps(server, request, trusted))) {
          throw new HttpError(403, "Cross-site requests are not allowed");
        }
        if (link && linkFromElsewhere(request)) throw new HttpError(403, LINK_FROM_ELSEWHERE);
      })
      // A signed-in page, or an answer that sets a cookie, is for one browser
      // only: no shared cache and no back-button copy after signing out.
      .onAfterHandle(({ request, set }) => {
        if (carriesOurCookie(request) || Object.keys(set.cookie ?? {}).length > 0) {
          set.headers["cache-control"] = "no-store";
        }
      })
      .use(authPages(deps, web))
      .use(timelinePages(deps, web))
      .use(changePages(deps, web))
  );
}

function timelinePages(deps: AppDeps, web: WebContext) {
  const { db } = deps.database;
  /** The frame every timeline shares: viewer, flashes, messages and the link to older ones. */
  const timeline = (
    cookie: Jar,
    viewer: Viewer | null,
    view: TimelineKind & { title: string },
    messages: TimelineMessage[],
    path: string,
  ) => {
    const last = messages.at(-1);
    const olderHref = messages.length === PAGE_SIZE && last ? `${path}?before=${last.messageId}` : null;
    const flashes = web.takeFlashes(cookie);
    return TimelinePage({ ...view, viewer, flashes, stylesheet: web.stylesheet, messages, olderHref });
  };

  return new Elysia({ name: "timeline-pages" })
    .use(htmlResponses())
    .get(
      "/",
      async ({ cookie, query, redirect, html }) => {
        const viewer = await web.viewer(cookie);
        if (viewer === null) return redirect("/public", 302);
        const messages = await homeTimeline(db, viewer.userId, page(query.before));
        return html(timeline(cookie, viewer, { kind: "mine", title: "My Timeline" }, messages, "/"));
      },
      { query: pageQuery },
    )
    .get(
      "/public",
      async ({ cookie, query, html }) => {
        const messages = await publicTimeline(db, page(query.before));
        const viewer = await web.viewer(cookie);
        return html(timeline(cookie, viewer, { kind: "public", title: "Public Timeline" }, messages, "/public"));
      },
      { query: pageQuery },
    )
    .get(
      "/:username",
      async ({ cookie, params, query, html }) => {
        const profile = await userByName(db, params.username);
        if (profile === null) throw new HttpError(404, `There is no user named "${params.username}"`);
        const viewer = await web.viewer(cookie);
        const [messages, following] = await Promise.all([
          userTimeline(db, profile, page(query.before)),
          viewer && viewer.userId !== profile.userId ? isFollowing(db, viewer.userId, profile.userId) : false,
        ]);
        const relation = viewer?.userId === profile.userId ? "self" : following ? "following" : "not-following";
        const view = {
          kind: "user",
          profile: profile.username,
          relation,
          title: `${profile.username}'s Timeline`,
        } as const;
        return html(timeline(cookie, viewer, view, messages, `/${encodeURIComponent(profile.username)}`));
      },
      { query: pageQuery },
    );
}

/** Posting a message and following: each changes state, flashes what it did and redirects. */
function changePages(deps: AppDeps, web: WebContext) {
  const { db } = deps.database;
  const trusted = deps.config.trustedProxies;
  const field = fieldSchemas(deps.config.security);

  async function changeFollow(action: "follow" | "unfollow", username: string, cookie: Jar, secure: boolean) {
    const viewer = await web.viewer(cookie);
    if (viewer === null) throw new HttpError(401, `You need to sign in to ${action} users`);
    const whom = await userByName(db, username);
    if (whom === null) throw new HttpError(404, `There is no user named "${username}"`);
    if (action === "follow") {
      await follow(db, viewer.userId, whom.userId);
      deps.metrics.follows.inc();
      web.flash(cookie, `You are now following "${whom.username}"`, secure);
    } else {
      await unfollow(db, viewer.userId, whom.userId);
      deps.metrics.unfollows.inc();
      web.flash(cookie, `You are no longer following "${whom.username}"`, secure);
    }
    return `/${encodeURIComponent(whom.username)}`;
  }

  return new Elysia({ name: "change-pages" })
    .post(
      "/add_message",
      async ({ cookie, body, request, server, redirect }) => {
        const viewer = await web.viewer(cookie);
        if (viewer === null) throw new HttpError(401, "You need to sign in to post a message");
        const text = body.text?.trim() ?? "";
        if (text !== "") {
          await postMessage(db, viewer.userId, text, unixNow(deps));
          deps.metrics.messagesPosted.inc();
          web.flash(cookie, "Your message was recorded", isHttps(server, request, trusted));
        }
        return redirect("/", 302);
      },
      { body: t.Object({ text: t.Optional(field.message) }) },
    )
    .get("/:username/follow", async ({ cookie, params, request, server, redirect }) =>
      redirect(await changeFollow("follow", params.username, cookie, isHttps(server, request, trusted)), 302),
    )
    .get("/:username/unfollow", async ({ cookie, params, request, server, redirect }) =>
      redirect(await changeFollow("unfollow", params.username, cookie, isHttps(server, request, trusted)), 302),
    );
}
