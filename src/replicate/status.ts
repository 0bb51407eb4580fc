// `replicate status`: where a move stands, read from both catalogs. Only
// reads; safe at any time, also while a cutover runs.
import {
  fenceOnSource,
  PUBLICATION,
  publicationOnSource,
  replicatedTables,
  type Sql,
  SUBSCRIPTION,
  type SyncState,
  slotName,
  slotOnSource,
  subscriptionOnTarget,
  tableStates,
} from "./catalog";

export type Phase = "idle" | "incomplete" | "copying" | "replicating" | "cutting over" | "complete";

export interface MoveStatus {
  readonly phase: Phase;
  /** What to do next. */
  readonly next: string;
  readonly publication: { readonly name: string; readonly exists: boolean; readonly tables: string[] };
  readonly subscription: { readonly name: string; readonly exists: boolean; readonly enabled: boolean | null };
  readonly slot: {
    readonly name: string;
    readonly exists: boolean;
    readonly active: boolean;
    /** Source WAL position minus what the subscriber confirmed; null when unknown. */
    readonly lagBytes: number | null;
  };
  readonly tables: { readonly table: string; readonly state: SyncState | "not subscribed" }[];
  readonly source: {
    readonly readOnly: boolean;
    readonly fencedAt: string | null;
    readonly completedAt: string | null;
  };
}

const NEXT: Record<Phase, string> = {
  idle: "nothing in progress; run `minitwit replicate start --from SOURCE --to TARGET` to begin a move",
  incomplete: "a start or abort stopped part-way; run `start` again to continue, or `abort` to undo it",
  copying: "the initial copy is running; wait until every table is ready",
  replicating: "the target follows the source; run `minitwit replicate cutover` to switch",
  "cutting over": "a cutover is under way or stopped part-way; run `minitwit replicate cutover` to finish it",
  complete: "the cutover is done; point MiniTwit at the target (the source stays read-only)",
};

export async function moveStatus(source: Sql, target: Sql): Promise<MoveStatus> {
  const slot = await slotName(source);
  const [published, subscription, slotInfo, fence] = [
    await publicationOnSource(source),
    await subscriptionOnTarget(target),
    await slotOnSource(source, slot),
    await fenceOnSource(source),
  ];
  const states = subscription === null ? new Map<string, SyncState>() : await tableStates(target, subscription.oid);
  const tables = replicatedTables().map((table) => ({
    table,
    state: states.get(table) ?? ("not subscribed" as const),
  }));
  const phase: Phase = fence?.completedAt
    ? "complete"
    : fence !== null
      ? "cutting over"
      : subscription !== null && slotInfo !== null && published !== null && subscription.slot !== null
        ? tables.every((t) => t.state === "ready")
          ? "replicating"
          : "copying"
        : subscription !== null || slotInfo !== null || published !== null
          ? "incomplete"
          : "idle";
  return {
    phase,
    next: NEXT[phase],
    publication: { name: PUBLICATION, exists: published !== null, tables: published ?? [] },
    subscription: { name: SUBSCRIPTION, exists: subscription !== null, enabled: subscription?.enabled ?? null },
    slot: {
      name: slot,
      exists: slotInfo !== null,
      active: slotInfo?.activePid != null,
      lagBytes: slotInfo?.lagBytes ?? null,
    },
    tables,
    source: {
      readOnly: fence !== null,
      fencedAt: fence?.fencedAt.toISOString() ?? null,
      completedAt: fence?.completedAt?.toISOString() ?? null,
    },
  };
}

export function formatStatus(status: MoveStatus): string[] {
  const { publication, subscription, slot, source } = status;
  const width = Math.max(...status.tables.map((t) => t.table.length));
  return [
    `phase: ${status.phase}`,
    `source: ${
      source.completedAt
        ? `read-only since ${source.fencedAt}, cutover completed ${source.completedAt}`
        : source.readOnly
          ? `read-only since ${source.fencedAt}`
          : "accepts writes"
    }`,
    `publication ${publication.name}: ${publication.exists ? publication.tables.join(", ") : "none"}`,
    `subscription ${subscription.name}: ${
      subscription.exists ? (subscription.enabled ? "enabled" : "disabled") : "none"
    }`,
    `slot ${slot.name}: ${
      slot.exists ? `${slot.active ? "active" : "inactive"}, lag ${slot.lagBytes ?? "unknown"} bytes` : "none"
    }`,
    "tables:",
    ...status.tables.map((t) => `  ${t.table.padEnd(width)}  ${t.state}`),
    `next: ${status.next}`,
  ];
}
