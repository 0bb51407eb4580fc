// The length caps on user input (configurable, see SecuritySettings), as
// schemas shared by the API and the forms. Over a cap, the error mapper
// answers 400 with "<field> must be at most N characters".
import { t } from "elysia";
import type { SecuritySettings } from "../config/settings";

export function fieldSchemas(limits: SecuritySettings) {
  return {
    username: t.String({ maxLength: limits.maxUsernameLength }),
    email: t.String({ maxLength: limits.maxEmailLength }),
    password: t.String({ maxLength: limits.maxPasswordLength }),
    message: t.String({ maxLength: limits.maxMessageLength }),
    /** A username given as a follow target. */
    target: t.String({ maxLength: limits.maxUsernameLength }),
  };
}
