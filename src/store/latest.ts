// The simulator's latest action id: a single row.
import { eq } from "drizzle-orm";
import { latest } from "../../db/schema";
import type { Db } from "../database";

export async function readLatest(db: Db): Promise<number | null> {
  const [row] = await db.select({ value: latest.value }).from(latest).where(eq(latest.id, 1));
  return row === undefined ? null : Number(row.value);
}

export async function writeLatest(db: Db, value: number): Promise<void> {
  await db.insert(latest).values({ id: 1, value }).onConflictDoUpdate({ target: latest.id, set: { value } });
}
