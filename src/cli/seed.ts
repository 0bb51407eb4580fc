// `minitwit seed`: a synthetic data set for benchmarks and demos.
import { UsageError } from "../errors";
import { defineCommand } from "./command";
import { withDatabase } from "./database";
import { DATABASE_HELP, databaseOptions } from "./shared";

export const seed = defineCommand({
  name: "seed",
  summary: "fill an empty database with synthetic users, follows and messages",
  settings: ["core", "database"],
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
    users: { type: "integer", min: 2, max: 1_000_000 },
    messages: { type: "integer", min: 0, max: 100_000_000 },
    password: { type: "string" },
    seed: { type: "integer", min: 0, max: 2 ** 32 - 1 },
    force: { type: "boolean" },
  },
  async run({ config, options, out }) {
    const { users = 10_000, messages = 1_000_000, seed: seedValue = 1, password = "minitwit" } = options;
    if (password === "") throw new UsageError("--password must not be empty", "seed");
    const { seedDatabase } = await import("../seed/populate");
    return withDatabase(config, async (database) => {
      const result = await seedDatabase(database, config.databaseUrl, {
        users,
        messages,
        password,
        seed: seedValue,
        force: options.force === true,
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
});
