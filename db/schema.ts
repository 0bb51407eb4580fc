// The MiniTwit data model: the original three tables (user, follower,
// message) with the constraints the original lacked, plus the single-row
// `latest` table the simulator API needs. Column names follow the original
// so legacy databases import column for column.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";

export const users = pgTable(
  "users",
  {
    userId: integer("user_id").primaryKey().generatedByDefaultAsIdentity(),
    // Stored NFC-normalised, as registered (src/accounts/signup.ts decides what a name may hold).
    username: text("username").notNull().unique("users_username_key"),
    email: text("email").notNull(),
    pwHash: text("pw_hash").notNull(),
    // The name as compared: NFKC and full Unicode case folding, computed by
    // the database's fold_username() (migration 0005), which the sign-in
    // throttle's key uses too. Generated, so every way a row arrives (sign-up,
    // import, seed, restore) gets it.
    usernameFolded: text("username_folded").notNull().generatedAlwaysAs(sql`fold_username("username")`),
    // True for a name registered before migration 0005 that folds like an
    // older user's name (`ΟΔΟΣ` beside `οδος`): it keeps working, is left out
    // of the uniqueness below, and is listed by the view username_twins.
    usernameTwin: boolean("username_twin").notNull().default(false),
  },
  (t) => [
    // One account per folded name: `Alice`, `ΟΔΟΣ`/`οδος`, `ａｌｉｃｅ` cannot sit beside another.
    uniqueIndex("users_username_folded_key").on(t.usernameFolded).where(sql`not ${t.usernameTwin}`),
  ],
);

export const followers = pgTable(
  "followers",
  {
    whoId: integer("who_id")
      .notNull()
      .references(() => users.userId, { onDelete: "cascade" }),
    whomId: integer("whom_id")
      .notNull()
      .references(() => users.userId, { onDelete: "cascade" }),
  },
  (t) => [
    primaryKey({ name: "followers_pkey", columns: [t.whoId, t.whomId] }),
    // "Who follows X": used by cascading deletes and follower counts.
    index("followers_whom_idx").on(t.whomId),
  ],
);

export const messages = pgTable(
  "messages",
  {
    messageId: integer("message_id").primaryKey().generatedByDefaultAsIdentity(),
    authorId: integer("author_id")
      .notNull()
      .references(() => users.userId, { onDelete: "cascade" }),
    text: text("text").notNull(),
    // Unix seconds, as in the original; bigint so it outlives 2038.
    pubDate: bigint("pub_date", { mode: "number" }).notNull(),
    flagged: boolean("flagged").notNull().default(false),
  },
  (t) => [
    // Public timeline: newest unflagged messages, walked by message id.
    index("messages_public_idx").on(t.messageId.desc()).where(sql`${t.flagged} = false`),
    // A user's timeline, and each followed author's slice of "my timeline".
    index("messages_author_idx").on(t.authorId, t.messageId.desc()).where(sql`${t.flagged} = false`),
    // The flagged few, for moderators: with the author index above, an
    // author's messages flagged or not without reading the table.
    index("messages_flagged_idx").on(t.authorId, t.messageId.desc()).where(sql`${t.flagged} = true`),
  ],
);

// The simulator's last processed action id: one row, shared by replicas.
export const latest = pgTable(
  "latest",
  {
    id: smallint("id").primaryKey().default(1),
    value: bigint("value", { mode: "number" }).notNull(),
  },
  (t) => [check("latest_single_row", sql`${t.id} = 1`)],
);

// Every flag and unflag a moderator made: what, by whom, when. Append-only.
export const moderationEvents = pgTable("moderation_events", {
  eventId: integer("event_id").primaryKey().generatedByDefaultAsIdentity(),
  messageId: integer("message_id")
    .notNull()
    .references(() => messages.messageId, { onDelete: "cascade" }),
  action: text("action", { enum: ["flag", "unflag"] }).notNull(),
  operator: text("operator").notNull(),
  at: bigint("at", { mode: "number" }).notNull(),
});

// Web sign-ins. The cookie carries a random session id; only its SHA-256
// is stored, so a copy of this table signs nobody in. Signing out deletes
// the row, which ends the session on every replica at once.
export const sessions = pgTable(
  "sessions",
  {
    idHash: text("id_hash").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.userId, { onDelete: "cascade" }),
    // Unix seconds.
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  },
  (t) => [
    // Purging expired sessions, a bounded batch at a time.
    index("sessions_expires_idx").on(t.expiresAt),
    // Deleting a user's sessions (cascade), without reading the table.
    index("sessions_user_idx").on(t.userId),
  ],
);

// Sign-in attempts per username (`u:` keys) and per client address (`a:`
// keys), and sign-ups per client address (`s:` keys, the sign-up quota),
// shared by all replicas. Times are unix milliseconds; a row stops
// mattering at `expires_at` (its window's end, or its lock's if later).
export const signinAttempts = pgTable(
  "signin_attempts",
  {
    key: text("key").primaryKey(),
    attempts: integer("attempts").notNull(),
    // The count at which the key locks; an attempt counted above it was refused.
    lockAfter: integer("lock_after").notNull(),
    lockedUntil: bigint("locked_until", { mode: "number" }).notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  },
  (t) => [index("signin_attempts_expires_idx").on(t.expiresAt)],
);
