/** @jsxImportSource @kitajs/html */
// The sign-in and sign-up pages. Typed values come back into the form after a
// failed attempt (passwords never do).
import type { Children } from "@kitajs/html";
import { esc } from "./format";
import { ErrorBox, Layout, type LayoutProps } from "./layout";

type PageProps = Omit<LayoutProps, "children" | "title"> & { readonly error: string | null };

/** One labelled input of a form. */
function Field(props: { name: string; label: Children; type?: "text" | "password"; value?: string }): JSX.Element {
  return (
    <>
      <dt>
        <label for={props.name}>{props.label}</label>
      </dt>
      <dd>
        <input
          type={props.type ?? "text"}
          id={props.name}
          name={props.name}
          size="30"
          value={props.value === undefined ? undefined : esc(props.value)}
        />
      </dd>
    </>
  );
}

function FormPage(props: PageProps & { title: string; action: string; children: Children }): JSX.Element {
  return (
    <Layout title={props.title} viewer={props.viewer} flashes={props.flashes} stylesheet={props.stylesheet}>
      <h2>{props.title}</h2>
      <ErrorBox error={props.error} />
      <form action={props.action} method="post">
        <dl>{props.children}</dl>
        <div class="actions">
          <input type="submit" value={props.title} />
        </div>
      </form>
    </Layout>
  );
}

export function LoginPage(props: PageProps & { readonly username: string }): JSX.Element {
  return (
    <FormPage {...props} title="Sign In" action="/login">
      <Field name="username" label="Username:" value={props.username} />
      <Field name="password" label="Password:" type="password" />
    </FormPage>
  );
}

export function RegisterPage(props: PageProps & { readonly username: string; readonly email: string }): JSX.Element {
  return (
    <FormPage {...props} title="Sign Up" action="/register">
      <Field name="username" label="Username:" value={props.username} />
      <Field name="email" label="E-Mail:" value={props.email} />
      <Field name="password" label="Password:" type="password" />
      <Field
        name="password2"
        label={
          <>
            Password <small>(repeat)</small>:
          </>
        }
        type="password"
      />
    </FormPage>
  );
}
