/**
 * A buffer with Firehose's buffering hints: it is due once its size reaches the size hint
 * or the interval hint has passed since its first item, whichever comes first (an
 * interval of 0 makes every item due at once).
 * https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html
 */
export class HintBuffer<T> {
  private items: T[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** `due` was called and the items not taken since: no need to call it again. */
  private signalled = false;

  constructor(
    private readonly hints: { readonly bytes: number; readonly seconds: number },
    private readonly sizeOf: (item: T) => number,
    /** Called once when the buffer becomes due; the owner then `take`s it. */
    private readonly due: () => void,
  ) {}

  get length(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.items.push(item);
    this.bytes += this.sizeOf(item);
    if (this.bytes >= this.hints.bytes || this.hints.seconds === 0) this.signal();
    else this.timer ??= setTimeout(() => this.signal(), this.hints.seconds * 1000);
  }

  /** Empties the buffer and returns what it held. */
  take(): T[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.signalled = false;
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    return items;
  }

  /** Returns items taken and not used ahead of anything added since. */
  putBack(items: readonly T[]): void {
    this.items = [...items, ...this.items];
    this.bytes = this.items.reduce((sum, item) => sum + this.sizeOf(item), 0);
  }

  private signal(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.signalled) return;
    this.signalled = true;
    this.due();
  }
}
