// Typed errors. Commands and handlers throw these; only `main` (for the CLI)
// and the HTTP error mapper turn them into exit codes and responses.

/** A mistake in how a command was invoked: exit code 2 with a "Try:" hint. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** A failure with a status and a message that is safe to show to the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}
