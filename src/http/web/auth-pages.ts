// The pages of sign in, sign up and sign out (the rules are in src/accounts/). Error texts, their order and the flashes are
// the spec's, string for string.
import { Elysia, t } from "elysia";
import { LoginPage, RegisterPage } from "../../../views/forms";
import { signIn } from "../../accounts/signin";
import { signUp, WEB_MIN_PASSWORD_LENGTH } from "../../accounts/signup";
import { SignInThrottle } from "../../accounts/throttle";
import type { AppDeps } from "../deps";
import { fieldSchemas } from "../fields";
import { clientAddress, isHttps } from "../middleware/request-origin";
import { signUpDoor } from "../signup-door";
import { htmlResponses, type WebContext } from "./context";

export function authPages(deps: AppDeps, web: WebContext) {
  const { db } = deps.database;
  const throttle = new SignInThrottle(db);
  const door = signUpDoor(deps);
  const trusted = deps.config.trustedProxies;
  const field = fieldSchemas(deps.config.security);
  const loginForm = t.Object({ username: t.Optional(field.username), password: t.Optional(field.password) });
  const registerForm = t.Object({
    username: t.Optional(field.username),
    email: t.Optional(field.email),
    password: t.Optional(field.password),
    password2: t.Optional(field.password),
  });
  const frame = (flashes: string[]) => ({ viewer: null, flashes, stylesheet: web.stylesheet });

  return new Elysia({ name: "auth-pages" })
    .use(htmlResponses())
    .get("/login", async ({ cookie, redirect, html }) => {
      if ((await web.viewer(cookie)) !== null) return redirect("/", 302);
      return html(LoginPage({ ...frame(web.takeFlashes(cookie)), error: null, username: "" }));
    })
    .post(
      "/login",
      async ({ cookie, body, request, server, set, redirect, html }) => {
        if ((await web.viewer(cookie)) !== null) return redirect("/", 302);
        const username = body.username ?? "";
        const password = body.password ?? "";
        const address = clientAddress(server, request, trusted);
        const user = await signIn(db, throttle, { username, password, address }, set.headers);
        if (typeof user === "string") {
          set.status = 200;
          return html(LoginPage({ ...frame([]), error: user, username }));
        }
        const secure = isHttps(server, request, trusted);
        await web.signIn(cookie, user.userId, secure);
        web.flash(cookie, "You were logged in", secure);
        return redirect("/", 302);
      },
      { body: loginForm },
    )
    .get("/register", async ({ cookie, redirect, html }) => {
      if ((await web.viewer(cookie)) !== null) return redirect("/", 302);
      return html(RegisterPage({ ...frame(web.takeFlashes(cookie)), error: null, username: "", email: "" }));
    })
    .post(
      "/register",
      async ({ cookie, body, request, server, set, redirect, html }) => {
        if ((await web.viewer(cookie)) !== null) return redirect("/", 302);
        const counted = await door.admit(request, server, set.headers);
        const { username = "", email = "", password = "", password2 = "" } = body;
        const minPasswordLength = WEB_MIN_PASSWORD_LENGTH;
        const error = await signUp(db, { username, email, password, password2, minPasswordLength });
        if (error !== null) {
          await door.giveBack(counted);
          return html(RegisterPage({ ...frame([]), error, username, email }));
        }
        deps.metrics.registrations.inc();
        web.flash(cookie, "You were successfully registered and can login now", isHttps(server, request, trusted));
        return redirect("/login", 302);
      },
      { body: registerForm },
    )
    .get("/logout", async ({ cookie, request, server, redirect }) => {
      await web.signOut(cookie);
      web.flash(cookie, "You were logged out", isHttps(server, request, trusted));
      return redirect("/public", 302);
    });
}
