import { open, stat } from 'node:fs/promises';
import type { Context } from './context.js';
import { asUserError, UserError } from './errors.js';

/** What `dudkit inspect` shows: a JSON document and the same facts as text for people. */
export interface Report {
  kind: string;
  json: unknown;
  text: string;
}

/**
 * One kind of thing `inspect` understands. `detect` sees the first 64 KiB (empty for folders)
 * and decides by content, not by file name where the content can tell.
 */
export interface Inspector {
  readonly kind: string;
  detect(path: string, head: Uint8Array, isDirectory: boolean): boolean | Promise<boolean>;
  inspect(path: string, ctx: Context): Promise<Report>;
}

const registry: Inspector[] = [];

export function registerInspector(i: Inspector): void {
  registry.push(i);
}

export async function inspectPath(path: string, ctx: Context): Promise<Report> {
  let head = new Uint8Array(0);
  let isDirectory = false;
  try {
    const st = await stat(path);
    isDirectory = st.isDirectory();
    if (!isDirectory) {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(Math.min(65536, st.size));
        await fh.read(buf, 0, buf.length, 0);
        head = buf;
      } finally {
        await fh.close();
      }
    }
  } catch (err) {
    asUserError(err, path);
  }
  for (const i of registry) {
    if (await i.detect(path, head, isDirectory)) {
      try {
        return await i.inspect(path, ctx);
      } catch (err) {
        asUserError(err, path);
      }
    }
  }
  throw new UserError(`not a medium or input dudkit knows (kernel module, RPM, dkms tree, ISO, cpio, …)`, path);
}
