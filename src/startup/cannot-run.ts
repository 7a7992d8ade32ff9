/** What a tool (`npm run reencrypt`) cannot run without: a key or a database it did not find (exit 78). */
export class CannotRun extends Error {}
