/** A failure the CLI reports to the user: `message` (and `lines`) go to stderr, then exit. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly lines: readonly string[] = [],
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The server answered with the error envelope `{success: false, error, code, details}`. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
    details: readonly string[],
  ) {
    super(`Error (${code}): ${apiMessage}`, details);
    this.name = 'ApiError';
  }
}
