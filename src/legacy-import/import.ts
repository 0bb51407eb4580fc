// Imports a legacy MiniTwit database into the current schema, in one
// transaction: a failure leaves the target exactly as it was, so an import
// can simply be run again. Ids are kept (timelines, follows and any links
// stay valid), legacy password hashes are kept (their owners sign in as
// before and get argon2id then), and rows the current constraints forbid are
// dropped and counted rather than failing the whole import.
import { sql } from "drizzle-orm";
import { followers, messages, users } from "../../db/schema";
import { legacyHashKind } from "../accounts/passwords/werkzeug";
import { HoldsDataError, moveSequencesPastRows, rowCounts, runOnDb } from "../database/admin";
import { applyMigrations } from "../database/migrate";
import type { Db } from "../database/open";
import type { LegacyFollower, LegacyMessage, LegacySource, LegacyUser } from "./sources";

export interface ImportReport {
  readonly source: string;
  readonly imported: { users: number; followers: number; messages: number };
  readonly dropped: {
    /** A (who, whom) pair already imported. */
    duplicateFollowers: number;
    /** A follower row naming a user that does not exist. */
    followersOfMissingUsers: number;
    /** A message whose author does not exist. */
    messagesOfMissingUsers: number;
    /** Users without a username, email or password hash, and messages without text. */
    incompleteRows: number;
  };
  /** Messages without a pub_date, imported with 0 (the original allowed NULL; the schema does not). */
  readonly messagesWithoutDate: number;
  /** How many imported users have each kind of password hash. */
  readonly hashes: { argon2: number; werkzeugPbkdf2: number; sha256: number; unreadable: number };
}

export interface ImportOptions {
  /** Replace what the target holds instead of refusing. */
  readonly force: boolean;
}

export async function importLegacy(db: Db, source: LegacySource, options: ImportOptions): Promise<ImportReport> {
  await applyMigrations(db);
  return db.transaction(async (tx) => {
    await emptyOrRefuse(tx, options.force);
    const report = emptyReport(source.location);
    const userIds = await importUsers(tx, source, report);
    await importFollowers(tx, source, userIds, report);
    await importMessages(tx, source, userIds, report);
    await moveSequencesPastRows(runOnDb(tx), ["users", "messages"]);
    return report;
  });
}

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
type Report = ReturnType<typeof emptyReport>;

function emptyReport(location: string) {
  return {
    source: location,
    imported: { users: 0, followers: 0, messages: 0 },
    dropped: { duplicateFollowers: 0, followersOfMissingUsers: 0, messagesOfMissingUsers: 0, incompleteRows: 0 },
    messagesWithoutDate: 0,
    hashes: { argon2: 0, werkzeugPbkdf2: 0, sha256: 0, unreadable: 0 },
  };
}

async function emptyOrRefuse(tx: Tx, force: boolean): Promise<void> {
  const counts = await rowCounts(runOnDb(tx), ["users", "followers", "messages"]);
  const held = (table: string) => counts.get(table) ?? 0;
  const total = held("users") + held("followers") + held("messages");
  if (total > 0 && !force) {
    throw new HoldsDataError(
      `the target already holds ${held("users")} users, ${held("followers")} follower rows and ${held("messages")} messages; ` +
        "import into an empty database, or pass --force to replace them",
    );
  }
  if (total > 0) await tx.execute(sql`truncate users, followers, messages restart identity cascade`);
}

/** Imports every complete user; returns the ids imported. Refuses a source whose usernames repeat. */
async function importUsers(tx: Tx, source: LegacySource, report: Report): Promise<Set<number>> {
  const userIds = new Set<number>();
  const firstIdByName = new Map<string, number>();
  const duplicateNames: string[] = [];
  for await (const batch of source.users()) {
    const accepted = [];
    for (const user of batch) {
      if (!isComplete(user)) {
        report.dropped.incompleteRows++;
        continue;
      }
      const first = firstIdByName.get(user.username);
      if (first !== undefined) {
        duplicateNames.push(`"${user.username}" (ids ${first} and ${user.userId})`);
        continue;
      }
      firstIdByName.set(user.username, user.userId);
      userIds.add(user.userId);
      countHash(report.hashes, user.pwHash);
      accepted.push({ userId: user.userId, username: user.username, email: user.email, pwHash: user.pwHash });
    }
    if (accepted.length > 0) await tx.insert(users).values(accepted);
    report.imported.users += accepted.length;
  }
  if (duplicateNames.length > 0) {
    // Usernames are unique now; which of two accounts keeps the name is the
    // operator's decision, not the importer's.
    const shown = duplicateNames.slice(0, 10).join(", ");
    const more = duplicateNames.length > 10 ? ` and ${duplicateNames.length - 10} more` : "";
    throw new Error(
      `the legacy database has usernames used by more than one user: ${shown}${more}; rename or merge them there first`,
    );
  }
  return userIds;
}

async function importFollowers(tx: Tx, source: LegacySource, userIds: Set<number>, report: Report): Promise<void> {
  for await (const batch of source.followers()) {
    const valid = batch.filter((f): f is { whoId: number; whomId: number } => knownPair(f, userIds));
    report.dropped.followersOfMissingUsers += batch.length - valid.length;
    if (valid.length === 0) continue;
    // The original had no key on (who_id, whom_id); the first copy of a pair wins.
    const inserted = await tx.insert(followers).values(valid).onConflictDoNothing().returning({ who: followers.whoId });
    report.imported.followers += inserted.length;
    report.dropped.duplicateFollowers += valid.length - inserted.length;
  }
}

async function importMessages(tx: Tx, source: LegacySource, userIds: Set<number>, report: Report): Promise<void> {
  for await (const batch of source.messages()) {
    const accepted = [];
    for (const message of batch) {
      if (message.authorId === null || !userIds.has(message.authorId)) {
        report.dropped.messagesOfMissingUsers++;
      } else if (message.text === null) {
        report.dropped.incompleteRows++;
      } else {
        if (message.pubDate === null) report.messagesWithoutDate++;
        accepted.push(toMessage(message, message.authorId, message.text));
      }
    }
    if (accepted.length > 0) await tx.insert(messages).values(accepted);
    report.imported.messages += accepted.length;
  }
}

function isComplete(user: LegacyUser): user is LegacyUser & { username: string; email: string; pwHash: string } {
  return user.username !== null && user.email !== null && user.pwHash !== null;
}

function knownPair(row: LegacyFollower, userIds: Set<number>): boolean {
  return row.whoId !== null && row.whomId !== null && userIds.has(row.whoId) && userIds.has(row.whomId);
}

function toMessage(message: LegacyMessage, authorId: number, text: string) {
  return {
    messageId: message.messageId,
    authorId,
    text,
    pubDate: message.pubDate ?? 0,
    // The original stored 0/1 in an integer column; anything else non-zero
    // (a legacy boolean, "1") still means flagged.
    flagged: isFlagged(message.flagged),
  };
}

function isFlagged(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number" || typeof value === "bigint") return value !== 0 && value !== 0n;
  return !["", "0", "f", "false"].includes(String(value).trim().toLowerCase());
}

function countHash(hashes: ImportReport["hashes"], stored: string): void {
  const legacy = legacyHashKind(stored);
  if (legacy === "werkzeug-pbkdf2") hashes.werkzeugPbkdf2++;
  else if (legacy === "sha256") hashes.sha256++;
  else if (stored.startsWith("$argon2")) hashes.argon2++;
  else hashes.unreadable++;
}
