/** @jsxImportSource @kitajs/html */
// Timelines: public, a user's, and "my timeline".
import { esc, formatDate, gravatarUrl, userPath } from "./format";
import { Layout, type LayoutProps, type Viewer } from "./layout";

export interface MessageView {
  readonly messageId: number;
  readonly text: string;
  readonly pubDate: number;
  readonly username: string;
  readonly email: string;
}

export type TimelineKind =
  | { readonly kind: "public" }
  | { readonly kind: "mine" }
  | { readonly kind: "user"; readonly profile: string; readonly relation: "self" | "following" | "not-following" };

export type TimelineProps = Omit<LayoutProps, "children"> &
  TimelineKind & {
    readonly messages: readonly MessageView[];
    /** Link to the next page of older messages, when there is one. */
    readonly olderHref: string | null;
  };

export function TimelinePage(props: TimelineProps): JSX.Element {
  return (
    <Layout title={props.title} viewer={props.viewer} flashes={props.flashes} stylesheet={props.stylesheet}>
      <h2>{esc(props.title)}</h2>
      {props.viewer && <Box {...props} viewer={props.viewer} />}
      <ul class="messages">
        {props.messages.length === 0 ? (
          <li>
            <em>There's no message so far.</em>
          </li>
        ) : (
          props.messages.map((m) => <Message message={m} />)
        )}
      </ul>
      {props.olderHref && (
        <p class="pager">
          <a href={props.olderHref} rel="next">
            older messages &rarr;
          </a>
        </p>
      )}
    </Layout>
  );
}

function Box(props: TimelineKind & { viewer: Viewer }): JSX.Element {
  if (props.kind === "mine") {
    return (
      <div class="twitbox">
        <h3>What's on your mind {esc(props.viewer.username)}?</h3>
        <form action="/add_message" method="post">
          <p>
            <input type="text" name="text" size="60" maxlength="1000" aria-label="Your message" />
            <input type="submit" value="Share" />
          </p>
        </form>
      </div>
    );
  }
  if (props.kind !== "user") return "";
  const path = userPath(props.profile);
  return (
    <div class="followstatus">
      {props.relation === "self" && "This is you!"}
      {props.relation === "following" && (
        <>
          You are currently following this user.{" "}
          <a class="unfollow" href={`${path}/unfollow`}>
            Unfollow user
          </a>
          .
        </>
      )}
      {props.relation === "not-following" && (
        <>
          You are not yet following this user.{" "}
          <a class="follow" href={`${path}/follow`}>
            Follow user
          </a>
          .
        </>
      )}
    </div>
  );
}

function Message({ message }: { message: MessageView }): JSX.Element {
  return (
    <li>
      <img src={gravatarUrl(message.email)} alt="" width="48" height="48" />
      <p>
        <strong>
          <a href={userPath(message.username)}>{esc(message.username)}</a>
        </strong>{" "}
        {esc(message.text)} <small>— {formatDate(message.pubDate)}</small>
      </p>
    </li>
  );
}
