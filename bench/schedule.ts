// Which scenario rows may run now. The simulator sends the rows one at a
// time; a concurrent replay must still give every request the answer the
// simulator would get, so two orders are kept:
// - each actor's rows run one after another, in scenario order (a user's
//   register before their tweets, a follow before the unfollow of it);
// - a follow or unfollow runs after the registration of its target (the row
//   that registered the target earlier in the scenario has completed).
// Everything else is free to run in parallel. Among the rows that may run,
// the earliest in the scenario goes first, so the replay stays close to the
// scenario's own order.
import type { Action } from "../tests/support/scenario";

export class ScenarioSchedule {
  /** Per actor: its rows in order, and the position of the next one. */
  private readonly queues = new Map<string, { rows: Action[]; next: number; running: boolean }>();
  /** Row id of the first registration of each user. */
  private readonly registrations = new Map<string, number>();
  private readonly registered = new Set<string>();
  /** Actors whose next row waits for the registration of this user. */
  private readonly waitingFor = new Map<string, string[]>();
  private readonly ready = new MinHeap();
  private remaining: number;
  private wake: (() => void) | null = null;
  private changed: Promise<void> | null = null;

  constructor(actions: readonly Action[]) {
    this.remaining = actions.length;
    for (const action of actions) {
      if (action.command === "register" && !this.registrations.has(action.user)) {
        this.registrations.set(action.user, action.id);
      }
      const queue = this.queues.get(action.user) ?? { rows: [], next: 0, running: false };
      queue.rows.push(action);
      this.queues.set(action.user, queue);
    }
    for (const actor of this.queues.keys()) this.offer(actor);
  }

  get finished(): boolean {
    return this.remaining === 0;
  }

  /** Users whose registration has completed, for reads mixed into the replay. */
  registeredUsers(): ReadonlySet<string> {
    return this.registered;
  }

  /** The earliest row that may run now, or null when every runnable row is taken. */
  take(): Action | null {
    const action = this.ready.pop();
    if (action === undefined) return null;
    const queue = this.queues.get(action.user);
    if (queue) queue.running = true;
    return action;
  }

  /** Resolves when a row completes (so another may have become runnable). */
  progress(): Promise<void> {
    this.changed ??= new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    return this.changed;
  }

  complete(action: Action): void {
    this.remaining--;
    const queue = this.queues.get(action.user);
    if (queue) {
      queue.running = false;
      queue.next++;
    }
    if (action.command === "register" && this.registrations.get(action.user) === action.id) {
      this.registered.add(action.user);
      for (const actor of this.waitingFor.get(action.user) ?? []) this.offer(actor);
      this.waitingFor.delete(action.user);
    }
    this.offer(action.user);
    const wake = this.wake;
    this.wake = null;
    this.changed = null;
    wake?.();
  }

  /** Makes the actor's next row runnable, or parks it until its target is registered. */
  private offer(actor: string): void {
    const queue = this.queues.get(actor);
    if (queue === undefined || queue.running) return;
    const action = queue.rows[queue.next];
    if (action === undefined) return;
    if (action.command === "follow" || action.command === "unfollow") {
      const registeredAt = this.registrations.get(action.target);
      // A target registered only later in the scenario (or never) fails for
      // the simulator too; waiting for it would change the outcome.
      if (registeredAt !== undefined && registeredAt < action.id && !this.registered.has(action.target)) {
        const waiting = this.waitingFor.get(action.target) ?? [];
        if (!waiting.includes(actor)) waiting.push(actor);
        this.waitingFor.set(action.target, waiting);
        return;
      }
    }
    this.ready.push(action);
  }
}

/** A binary heap of actions, smallest scenario id on top. */
class MinHeap {
  private readonly items: Action[] = [];

  push(action: Action): void {
    const items = this.items;
    items.push(action);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as Action).id <= action.id) break;
      items[i] = items[parent] as Action;
      i = parent;
    }
    items[i] = action;
  }

  pop(): Action | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as Action).id < (items[left] as Action).id ? right : left;
      if ((items[child] as Action).id >= last.id) break;
      items[i] = items[child] as Action;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
