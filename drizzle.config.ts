import { defineConfig } from "drizzle-kit";

// Used only by `bunx drizzle-kit generate` to write new SQL migrations.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
