/**
 * Progress of long work. The library only calls the `Progress` interface; the CLI decides whether
 * anything is shown and hands a `progressReporter` its stream: on a terminal one line redrawn in
 * place, elsewhere (a log, with `--progress`) plain lines at most one a second — the shape of
 * xorriso's UPDATE lines — with bytes done, rate and time left.
 */
export interface Progress {
  /** A new phase of work; `total` in bytes when known. */
  phase(label: string, total?: number): void;
  /** Bytes of the current phase done since the last call. */
  advance(bytes: number): void;
  /** A remark the user should see (a warning, or "re-reading the image for sidecar hashes"). */
  note(message: string): void;
}

export const silentProgress: Progress = {
  phase() {},
  advance() {},
  note() {},
};

/** A shown progress: also prints other lines without tearing the progress line, and finishes it. */
export interface Reporter extends Progress {
  /** `text` (whole lines) on the reporter's stream, the progress line cleared first and redrawn after. */
  print(text: string): void;
  /** End the current phase's line with a newline, so what comes next (the summary) starts on its own line. */
  end(): void;
}

export interface ReporterOptions {
  write(text: string): void;
  /** A terminal: one line redrawn with `\r`; else plain lines, no `\r`, no escape codes. */
  terminal: boolean;
  /** Terminal width; the label is shortened so the line never wraps (a wrapped line cannot be redrawn). */
  columns?: number;
  /** Milliseconds, for tests; `Date.now` otherwise. */
  now?: () => number;
}

/** Redraws of a terminal line; a log gets an UPDATE line a second, as xorriso writes one. */
const TERMINAL_EVERY = 200;
const LOG_EVERY = 1000;
/** Phases shorter than this leave no line of their own: the next phase draws over them. */
const KEEP_AFTER = 1000;

/** 1536 → "1.5 KiB": binary units, one decimal. */
export function formatBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let u = 0;
  // 1023.96 KiB would print as 1024.0 KiB: move up from where it rounds to 1024
  while (v >= 1023.95 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** 75.2 s → "1m15s"; under 10 s one decimal. */
function formatSeconds(s: number): string {
  if (s < 10) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  if (whole < 60) return `${whole}s`;
  const m = Math.floor(whole / 60);
  return m < 60 ? `${m}m${String(whole % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

interface Phase {
  label: string;
  total: number | undefined;
  done: number;
  started: number;
  /** Whether a log line with numbers was written for it (then it also gets a finished line). */
  updated: boolean;
}

/** "512.0 MiB of 1.0 GiB (50%), 210.3 MiB/s, 2.4s left" — what is known of the phase so far. */
function status(p: Phase, now: number): string {
  const elapsed = (now - p.started) / 1000;
  const rate = elapsed > 0 ? p.done / elapsed : 0;
  const parts: string[] = [];
  if (p.total !== undefined && p.total > 0) {
    parts.push(`${formatBytes(p.done)} of ${formatBytes(p.total)} (${Math.min(100, Math.floor((p.done * 100) / p.total))}%)`);
  } else parts.push(formatBytes(p.done));
  if (rate > 0) parts.push(`${formatBytes(Math.round(rate))}/s`);
  if (rate > 0 && p.total !== undefined && p.total > p.done) parts.push(`${formatSeconds((p.total - p.done) / rate)} left`);
  return parts.join(', ');
}

/** "1.0 GiB in 5.1s (200.8 MiB/s)": the phase's line once it is over. */
function finished(p: Phase, now: number): string {
  const elapsed = (now - p.started) / 1000;
  if (p.done === 0) return `done in ${formatSeconds(elapsed)}`;
  return `${formatBytes(p.done)} in ${formatSeconds(elapsed)}${elapsed >= 1 ? ` (${formatBytes(Math.round(p.done / elapsed))}/s)` : ''}`;
}

/** Progress shown on a stream: see the module comment. */
export function progressReporter(opts: ReporterOptions): Reporter {
  const now = opts.now ?? Date.now;
  let current: Phase | undefined;
  let lastShown = 0;
  /** Terminal: a progress line is on screen, the cursor at its end. */
  let drawn = false;

  const fit = (label: string, rest: string): string => {
    const tail = rest ? `: ${rest}` : '';
    // a pseudo-terminal may report no size (0)
    const width = (opts.columns || 80) - 1;
    if (label.length + tail.length <= width) return label + tail;
    // cut the label's middle: its start says what is done, its end to which file
    const room = width - tail.length - 3;
    if (room < 16) return (label + tail).slice(0, width);
    const head = Math.ceil(room / 2);
    return `${label.slice(0, head)}...${label.slice(label.length - (room - head))}${tail}`;
  };
  const draw = (text: string) => {
    opts.write(`\r${text}\x1b[K`);
    drawn = true;
  };
  const clear = () => {
    if (drawn) opts.write('\r\x1b[K');
    drawn = false;
  };

  /** Close the current phase: a kept line (long phase, or the last one) ends with a newline. */
  const close = (last: boolean) => {
    const p = current;
    if (!p) return;
    const t = now();
    const long = t - p.started >= KEEP_AFTER;
    if (opts.terminal) {
      if (long || last) {
        draw(fit(p.label, finished(p, t)));
        opts.write('\n');
        drawn = false;
      }
    } else if (p.updated) opts.write(`dudkit: ${p.label}: ${finished(p, t)}\n`);
    current = undefined;
  };

  const show = (force: boolean) => {
    const p = current;
    if (!p) return;
    const t = now();
    if (opts.terminal) {
      if (!force && t - lastShown < TERMINAL_EVERY) return;
      lastShown = t;
      draw(fit(p.label, p.done > 0 ? status(p, t) : ''));
    } else {
      // a log gets a numbers line only once the phase has lasted a second, then one a second
      if (t - Math.max(lastShown, p.started) < LOG_EVERY) return;
      lastShown = t;
      p.updated = true;
      opts.write(`dudkit: ${p.label}: ${status(p, t)}\n`);
    }
  };

  const print = (text: string) => {
    if (opts.terminal) clear();
    opts.write(text);
    if (opts.terminal) show(true);
  };

  return {
    phase(label, total) {
      close(false);
      current = { label, total, done: 0, started: now(), updated: false };
      if (opts.terminal) {
        lastShown = current.started;
        draw(fit(label, ''));
      } else {
        lastShown = 0;
        opts.write(`dudkit: ${label}${total ? ` (${formatBytes(total)})` : ''}\n`);
      }
    },
    advance(bytes) {
      if (!current) return;
      current.done += bytes;
      show(false);
    },
    note(message) {
      print(`dudkit: ${message}\n`);
    },
    print,
    end() {
      close(true);
      clear();
    },
  };
}
