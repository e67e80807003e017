/**
 * Progress of long work. The library only calls this interface; the CLI decides whether anything
 * is shown (stderr, and only on a TTY or with --progress).
 */
export interface Progress {
  /** A new phase of work; `total` in bytes (or items) when known. */
  phase(label: string, total?: number): void;
  advance(amount: number): void;
  /** A remark the user should see (a warning, or "re-reading the image for sidecar hashes"). */
  note(message: string): void;
}

export const silentProgress: Progress = {
  phase() {},
  advance() {},
  note() {},
};
