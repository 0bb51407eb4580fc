/** @jsxImportSource @kitajs/html */
// The frame of every page: title, header, navigation, flashes, body, footer.
import type { Children } from "@kitajs/html";
import { esc } from "./format";

export interface Viewer {
  readonly userId: number;
  readonly username: string;
}

export interface LayoutProps {
  readonly title: string;
  readonly viewer: Viewer | null;
  readonly flashes: readonly string[];
  readonly stylesheet: string;
  readonly children?: Children;
}

export function Layout({ title, viewer, flashes, stylesheet, children }: LayoutProps): JSX.Element {
  return (
    "<!doctype html>" +
    (
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{esc(title)} | MiniTwit</title>
          <link rel="stylesheet" href={stylesheet} />
        </head>
        <body>
          <div class="page">
            <h1>MiniTwit</h1>
            <div class="navigation">
              {viewer ? (
                <>
                  <a href="/">my timeline</a> | <a href="/public">public timeline</a> |{" "}
                  <a href="/logout">sign out [{esc(viewer.username)}]</a>
                </>
              ) : (
                <>
                  <a href="/public">public timeline</a> | <a href="/register">sign up</a> | <a href="/login">sign in</a>
                </>
              )}
            </div>
            {flashes.length > 0 && (
              <ul class="flashes">
                {flashes.map((message) => (
                  <li>{esc(message)}</li>
                ))}
              </ul>
            )}
            <div class="body">{children}</div>
            <div class="footer">MiniTwit &mdash; a small micro-blog</div>
          </div>
        </body>
      </html>
    )
  );
}

/** The form error box: `<div class="error"><strong>Error:</strong> TEXT</div>`. */
export function ErrorBox({ error }: { error: string | null }): JSX.Element {
  if (error === null) return "";
  return (
    <div class="error">
      <strong>Error:</strong> {esc(error)}
    </div>
  );
}
