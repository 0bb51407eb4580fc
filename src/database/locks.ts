// Every PostgreSQL advisory lock id MiniTwit takes, in one place, so that no
// two uses can pick the same number by accident. The values are arbitrary
// but fixed: every MiniTwit process, of any version, must agree on them.

/** Held (per transaction) while migrations run: replicas starting together queue up. */
export const MIGRATION_LOCK_ID = 7_305_412_001;

/** Held (per session) by `minitwit replicate` on the source: one step of a move at a time. */
export const REPLICATION_LOCK_ID = 7_305_412_002;
