-- Usernames are unique regardless of case: `Alice` cannot be registered beside
-- `alice`. Names keep the case they were registered with; only the index
-- compares lower(username).
-- Existing names that differ only in case are never renamed or deleted here:
-- the migration stops with the list of them, changes nothing, and the
-- replicas keep running on the previous schema. Rename all but one of each
-- group (SECURITY.md, "Look-alike usernames", shows the statement), then run
-- `minitwit migrate` again.
DO $$
DECLARE
  clashes text;
BEGIN
  SELECT string_agg(names, '; ' ORDER BY names) INTO clashes
  FROM (
    SELECT string_agg(format('%s (id %s)', username, user_id), ', ' ORDER BY user_id) AS names
    FROM users
    GROUP BY lower(username)
    HAVING count(*) > 1
  ) AS groups;
  IF clashes IS NOT NULL THEN
    RAISE EXCEPTION 'usernames that differ only in case: %', clashes
      USING HINT = 'Rename all but one of each group (see SECURITY.md, "Look-alike usernames"), then run minitwit migrate again.';
  END IF;
END
$$;
--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_lower_key" ON "users" USING btree (lower("username"));
