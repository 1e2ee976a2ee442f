/** The error a feed load throws when the feed cannot be used as a whole (kept apart so every parser can throw it). */
export class FeedLoadError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'FeedLoadError';
  }
}
