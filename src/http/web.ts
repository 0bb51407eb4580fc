// The web pages (spec section 2): timelines, following, posting. Sign-in and
// sign-up live in auth-pages.ts. Pages are plain HTML forms and links, so
// every page works without JavaScript.
import { Elysia, t } from "elysia";
import { TimelinePage } from "../../views/timeline";
import { HttpError } from "../errors";
import { follow, isFollowing, unfollow } from "../store/followers";
import { homeTimeline, type Page, postMessage, publicTimeline, userTimeline } from "../store/messages";
import { userByName } from "../store/users";
import { authPages } from "./auth-pages";
import { type AppDeps, unixNow } from "./deps";
import { fieldSchemas } from "./fields";
import { isCrossSite, isHttps } from "./request-origin";
import { htmlResponses, type WebContext } from "./web-context";

export const PAGE_SIZE = 30;

const pageQuery = t.Object({ before: t.Optional(t.String()) });

export function webPages(deps: AppDeps, web: WebContext) {
  const { db } = deps.database;
  const trusted = deps.config.trustedProxies;
  const field = fieldSchemas(deps.config.security);

  /** Reads `?before=<id>`: the keyset cursor of the page. */
  const page = (before: string | undefined): Page => {
    const id = before !== undefined && /^\d{1,10}$/.test(before) ? Number(before) : undefined;
    return { limit: PAGE_SIZE, before: id };
  };
  const older = (path: string, messages: readonly { messageId: number }[]) => {
    const last = messages.at(-1);
    return messages.length === PAGE_SIZE && last ? `${path}?before=${last.messageId}` : null;
  };

  return (
    new Elysia({ name: "web-pages" })
      .use(htmlResponses())
      // Forms and the follow links change state: refuse them cross-site.
      .onBeforeHandle(({ request, route, server }) => {
        const changes = request.method !== "GET" || /\/(un)?follow$|^\/logout$/.test(route);
        if (changes && isCrossSite(request, isHttps(server, request, trusted))) {
          throw new HttpError(403, "Cross-site requests are not allowed");
        }
      })
      .use(authPages(deps, web))
      .get(
        "/",
        async ({ cookie, query, redirect, html }) => {
          const viewer = await web.viewer(cookie);
          if (viewer === null) return redirect("/public", 302);
          const messages = await homeTimeline(db, viewer.userId, page(query.before));
          return html(
            TimelinePage({
              kind: "mine",
              title: "My Timeline",
              viewer,
              flashes: web.takeFlashes(cookie),
              stylesheet: web.stylesheet,
              messages,
              olderHref: older("/", messages),
            }),
          );
        },
        { query: pageQuery },
      )
      .get(
        "/public",
        async ({ cookie, query, html }) => {
          const messages = await publicTimeline(db, page(query.before));
          return html(
            TimelinePage({
              kind: "public",
              title: "Public Timeline",
              viewer: await web.viewer(cookie),
              flashes: web.takeFlashes(cookie),
              stylesheet: web.stylesheet,
              messages,
              olderHref: older("/public", messages),
            }),
          );
        },
        { query: pageQuery },
      )
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
          return html(
            TimelinePage({
              kind: "user",
              profile: profile.username,
              relation,
              title: `${profile.username}'s Timeline`,
              viewer,
              flashes: web.takeFlashes(cookie),
              stylesheet: web.stylesheet,
              messages,
              olderHref: older(`/${encodeURIComponent(profile.username)}`, messages),
            }),
          );
        },
        { query: pageQuery },
      )
      .get("/:username/follow", ({ cookie, params, request, server, redirect }) =>
        changeFollow("follow", params.username, cookie, isHttps(server, request, trusted), redirect),
      )
      .get("/:username/unfollow", ({ cookie, params, request, server, redirect }) =>
        changeFollow("unfollow", params.username, cookie, isHttps(server, request, trusted), redirect),
      )
  );

  async function changeFollow(
    action: "follow" | "unfollow",
    username: string,
    cookie: Parameters<WebContext["viewer"]>[0],
    secure: boolean,
    redirect: (url: string, status: 302) => Response,
  ) {
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
    return redirect(`/${encodeURIComponent(whom.username)}`, 302);
  }
}
