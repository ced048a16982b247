/**
 * Logs a recurring condition at most once per interval, with the number of
 * occurrences since the last line: the first occurrence is logged at once,
 * later ones are summed and reported when the interval has passed (by an
 * unref'd timer, so a burst is always reported even if it was the last).
 */
export class RateLimitedLog {
  private pending = 0;
  private total = 0;
  private lastLogAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private lastDetail = '';

  constructor(
    private readonly log: (message: string) => void,
    private readonly intervalMs: number,
    /** Builds the line from the count since the last line, the total and the latest detail. */
    private readonly format: (count: number, total: number, detail: string) => string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  note(count = 1, detail = ''): void {
    this.pending += count;
    this.total += count;
    if (detail) this.lastDetail = detail;
    if (this.timer) return; // a line is already due; this occurrence joins it (no clock read)
    const wait = this.lastLogAt + this.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, wait);
      this.timer.unref();
    }
  }

  /** Logs what is pending now (close calls this so nothing is lost). */
  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.pending === 0) return;
    this.log(this.format(this.pending, this.total, this.lastDetail));
    this.pending = 0;
    this.lastLogAt = this.now();
  }
}
