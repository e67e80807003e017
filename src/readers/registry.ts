/**
 * Choosing the reader of a path: read its head, open it as a medium once, let every reader of the
 * registry bid, take the highest. The registry is passed in, never filled by an import.
 */
import { open, stat } from 'node:fs/promises';
import { asUserError } from '../errors.js';
import { openAny, type Opened } from '../media/medium.js';
import type { Head, Reader, Registry } from './types.js';

const HEAD_BYTES = 65536;

export async function readHead(path: string): Promise<Head> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return { path, bytes: new Uint8Array(0), isDirectory: true };
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(HEAD_BYTES, st.size));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return { path, bytes: buf.subarray(0, bytesRead), isDirectory: false };
    } finally {
      await fh.close();
    }
  } catch (err) {
    asUserError(err, path);
  }
}

export interface Bid {
  reader: Reader;
  bid: number;
}

/** Every reader's bid on a head and opened medium, highest first (zero bids left out). */
export async function bids(registry: Registry, head: Head, opened: Opened | undefined): Promise<Bid[]> {
  const out: Bid[] = [];
  for (const reader of registry) {
    const bid = await reader.bid(head, opened);
    if (bid > 0) out.push({ reader, bid });
  }
  return out.sort((a, b) => b.bid - a.bid);
}

export interface Chosen {
  head: Head;
  /** The path opened as a medium, when it is one that opens. */
  opened?: Opened;
  /** Why it did not open as a medium (a damaged image, or not an image at all). */
  openError?: unknown;
  /** Every reader's bid, highest first. */
  bids: Bid[];
  close(): Promise<void>;
}

/** Open a path once and collect the registry's bids on it (close it after use). */
export async function bidOn(registry: Registry, path: string): Promise<Chosen> {
  const head = await readHead(path);
  let opened: Opened | undefined;
  let openError: unknown;
  try {
    opened = await openAny(path, head.bytes, head.isDirectory);
  } catch (err) {
    openError = err;
  }
  const close = async () => {
    if (opened && opened.kind !== 'cpio') await opened.close();
  };
  try {
    return { head, ...(opened ? { opened } : {}), ...(openError !== undefined ? { openError } : {}), bids: await bids(registry, head, opened), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The winner of the bids, if any bid; two equal highest bids are a bug in the registry. */
export function winner(path: string, all: Bid[]): Reader | undefined {
  const [first, second] = all;
  if (first && second && first.bid === second.bid) throw new Error(`readers ${first.reader.kind} and ${second.reader.kind} both bid ${first.bid} on ${path}: make one bid higher`);
  return first?.reader;
}
