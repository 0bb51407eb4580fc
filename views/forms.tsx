/** @jsxImportSource @kitajs/html */
// The sign-in and sign-up pages. Typed values come back into the form after a
// failed attempt (passwords never do).
import { esc } from "./format";
import { ErrorBox, Layout, type LayoutProps } from "./layout";

type PageProps = Omit<LayoutProps, "children" | "title"> & { readonly error: string | null };

export function LoginPage(props: PageProps & { readonly username: string }): JSX.Element {
  return (
    <Layout title="Sign In" viewer={props.viewer} flashes={props.flashes} stylesheet={props.stylesheet}>
      <h2>Sign In</h2>
      <ErrorBox error={props.error} />
      <form action="/login" method="post">
        <dl>
          <dt>
            <label for="username">Username:</label>
          </dt>
          <dd>
            <input type="text" id="username" name="username" size="30" value={esc(props.username)} />
          </dd>
          <dt>
            <label for="password">Password:</label>
          </dt>
          <dd>
            <input type="password" id="password" name="password" size="30" />
          </dd>
        </dl>
        <div class="actions">
          <input type="submit" value="Sign In" />
        </div>
      </form>
    </Layout>
  );
}

export function RegisterPage(props: PageProps & { readonly username: string; readonly email: string }): JSX.Element {
  return (
    <Layout title="Sign Up" viewer={props.viewer} flashes={props.flashes} stylesheet={props.stylesheet}>
      <h2>Sign Up</h2>
      <ErrorBox error={props.error} />
      <form action="/register" method="post">
        <dl>
          <dt>
            <label for="username">Username:</label>
          </dt>
          <dd>
            <input type="text" id="username" name="username" size="30" value={esc(props.username)} />
          </dd>
          <dt>
            <label for="email">E-Mail:</label>
          </dt>
          <dd>
            <input type="text" id="email" name="email" size="30" value={esc(props.email)} />
          </dd>
          <dt>
            <label for="password">Password:</label>
          </dt>
          <dd>
            <input type="password" id="password" name="password" size="30" />
          </dd>
          <dt>
            <label for="password2">
              Password <small>(repeat)</small>:
            </label>
          </dt>
          <dd>
            <input type="password" id="password2" name="password2" size="30" />
          </dd>
        </dl>
        <div class="actions">
          <input type="submit" value="Sign Up" />
        </div>
      </form>
    </Layout>
  );
}
