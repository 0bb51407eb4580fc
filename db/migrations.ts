// The migrations, embedded into the binary so `minitwit migrate` works from
// any directory with no source tree. drizzle-kit writes the SQL files and the
// journal; when it adds a migration, import its file here (a test fails if a
// journal entry has no embedded SQL).

import m0000 from "./migrations/0000_init.sql" with { type: "text" };
import m0001 from "./migrations/0001_moderation_events.sql" with { type: "text" };
import m0002 from "./migrations/0002_flagged_messages.sql" with { type: "text" };
import m0003 from "./migrations/0003_sessions_and_signin_attempts.sql" with { type: "text" };
import m0004 from "./migrations/0004_username_case_insensitive.sql" with { type: "text" };
import m0005 from "./migrations/0005_username_folding.sql" with { type: "text" };
import journal from "./migrations/meta/_journal.json";

const embedded: Record<string, string> = {
  "0000_init": m0000,
  "0001_moderation_events": m0001,
  "0002_flagged_messages": m0002,
  "0003_sessions_and_signin_attempts": m0003,
  "0004_username_case_insensitive": m0004,
  "0005_username_folding": m0005,
};

export interface Migration {
  readonly tag: string;
  readonly sql: string;
}

export function embeddedMigrations(): Migration[] {
  return journal.entries.map(({ tag }) => {
    const sql = embedded[tag];
    if (sql === undefined) throw new Error(`migration ${tag} is in the journal but not embedded in db/migrations.ts`);
    return { tag, sql };
  });
}

export function embeddedTags(): string[] {
  return Object.keys(embedded);
}
