/** @jsxImportSource @kitajs/html */
// The page for a failed request (404, 401, 403, 429, 500).
import { esc } from "./format";
import { Layout, type Viewer } from "./layout";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  413: "Too Large",
  429: "Too Many Requests",
  503: "Unavailable",
};

export function ErrorPage(props: {
  status: number;
  message: string;
  stylesheet: string;
  viewer?: Viewer | null;
}): JSX.Element {
  const title = TITLES[props.status] ?? "Error";
  return (
    <Layout title={title} viewer={props.viewer ?? null} flashes={[]} stylesheet={props.stylesheet}>
      <h2>{title}</h2>
      <p class="error-message">{esc(props.message)}</p>
      <p>
        <a href="/public">Back to the public timeline</a>
      </p>
    </Layout>
  );
}
