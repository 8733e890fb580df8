// Limits that clients and the server both read, kept apart from the answers' zod schemas
// (views.ts, mail-views.ts) so that a command can name them without loading zod.

/** The most rows and the longest time a query may ask for, and what it gets when it asks for none (the API's and the CLI's). */
export const QUERY_LIMITS = { rows: { default: 100, max: 1000 }, timeoutMs: { default: 5000, max: 30_000 } } as const;

/** Rows a listing of caught mail answers unless asked for more (the newest). */
export const MAIL_LIST_LIMIT = 100;
