/**
 * The /24 blocks of IPv4 space that hold something an IPv4 query can match in a set of feeds (an address, a
 * range overlapping the block, an `ip:port` entry, a bare-IP URL entry), as 2^24 bits (2 MiB). The Matcher builds
 * it with its list of feeds and answers a query outside every marked block at once: most addresses in real
 * events are in no feed, and asking each feed costs a few cache misses.
 */
export class Ipv4Blocks {
  private readonly bits = new Uint32Array(2 ** 24 / 32);

  clear(): void {
    this.bits.fill(0);
  }

  /** Marks every block that holds an address of `first .. last` (inclusive, unsigned). */
  addRange(first: number, last: number): void {
    const from = first >>> 8;
    const to = last >>> 8;
    const fromWord = from >>> 5;
    const toWord = to >>> 5;
    // Bits `from & 31 ..` of the first word and `.. to & 31` of the last; whole words in between.
    const head = (0xffffffff << (from & 31)) >>> 0;
    const tail = 0xffffffff >>> (31 - (to & 31));
    if (fromWord === toWord) {
      this.bits[fromWord]! |= head & tail;
      return;
    }
    this.bits[fromWord]! |= head;
    this.bits.fill(0xffffffff, fromWord + 1, toWord);
    this.bits[toWord]! |= tail;
  }

  /** Whether the block of `address` (an unsigned 32-bit IPv4 address) is marked. */
  has(address: number): boolean {
    const block = address >>> 8;
    return (this.bits[block >>> 5]! & (1 << (block & 31))) !== 0;
  }
}
