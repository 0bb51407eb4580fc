// `minitwit seed`: a synthetic data set for benchmarks and demos.
import { UsageError } from "../errors";
import { seedDatabase } from "../seed/seed";
import { type Command, DATABASE_HELP, databaseOptions } from "./command";
import { withDatabase } from "./database";

export const seed: Command = {
  name: "seed",
  summary: "fill an empty database with synthetic users, follows and messages",
  usage: `Usage: minitwit seed [--users N] [--messages N] [--password TEXT] [--seed N] [--force]

Fills an empty PostgreSQL database with a synthetic data set: users with
generated names, a heavy-tailed follow graph (most users follow a few dozen
accounts, about one in a hundred follows 500 or more) and messages spread
over the past year, a few authors writing most of them. Rows are loaded
with COPY: the defaults take well under a minute. The same --seed gives the
same data set. Refuses a database that holds users, follows or messages
unless --force, which replaces them.

Options:
  --users N            users to create (default 10000, at least 2)
  --messages N         messages to create (default 1000000)
  --password TEXT      every seeded user's password (default "minitwit")
  --seed N             seed of the generator (default 1)
  --force              empty the database first
${DATABASE_HELP}`,
  options: {
    ...databaseOptions,
    users: { type: "string" },
    messages: { type: "string" },
    password: { type: "string" },
    seed: { type: "string" },
    force: { type: "boolean" },
  },
  async run({ config, flags, out }) {
    const users = count(flags.users, "--users", 10_000, 2, 1_000_000);
    const messages = count(flags.messages, "--messages", 1_000_000, 0, 100_000_000);
    const seedValue = count(flags.seed, "--seed", 1, 0, 2 ** 32 - 1);
    const password = typeof flags.password === "string" ? flags.password : "minitwit";
    if (password === "") throw new UsageError("--password must not be empty", "seed");
    return withDatabase(config, async (database) => {
      const result = await seedDatabase(database, config.databaseUrl, {
        users,
        messages,
        password,
        seed: seedValue,
        force: flags.force === true,
        now: Math.floor(Date.now() / 1000),
        progress: (line) => console.error(line),
      });
      out(
        `seeded ${result.users} users, ${result.follows} follows and ${result.messages} messages ` +
          `(${result.flagged} flagged) in ${result.seconds} s`,
      );
      out(`follows the most: "${result.heaviestFollower.username}" (${result.heaviestFollower.follows} accounts)`);
      out(`writes the most: "${result.busiestAuthor.username}" (${result.busiestAuthor.messages} messages)`);
      out(`every seeded user's password: ${password}`);
    });
  },
};

function count(value: string | boolean | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === "string" && /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`, "seed");
  return n;
}
