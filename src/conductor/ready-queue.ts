import { MinHeap } from "./min-heap.js";

/**
 * The ready queue: pops the smallest node index (declaration order breaks ties). Nodes usually
 * become ready in increasing index order (composites are written top-down), so those go to an
 * append-only sorted run at O(1); anything out of order goes to a binary heap at O(log n).
 */
export class ReadyQueue {
  private run: Int32Array;
  private head = 0;
  private tail = 0;
  private readonly heap = new MinHeap();
  /** Indexes waiting (a field, not a getter: the scheduler reads it for every node). */
  size = 0;

  constructor(capacity: number) {
    this.run = new Int32Array(Math.max(16, capacity));
  }

  push(index: number): void {
    this.size++;
    if (this.tail === this.head || index > this.run[this.tail - 1]!) {
      if (this.tail === this.run.length) this.compact();
      this.run[this.tail++] = index;
    } else {
      this.heap.push(index);
    }
  }

  /** Remove and return the smallest index. Call only when size > 0. */
  pop(): number {
    this.size--;
    if (this.heap.size === 0) return this.run[this.head++]!;
    if (this.head === this.tail) return this.heap.pop();
    return this.run[this.head]! < this.heap.peek() ? this.run[this.head++]! : this.heap.pop();
  }

  private compact(): void {
    const live = this.tail - this.head;
    const next = live * 2 > this.run.length ? new Int32Array(this.run.length * 2) : this.run;
    next.set(this.run.subarray(this.head, this.tail), 0);
    this.run = next;
    this.head = 0;
    this.tail = live;
  }
}
