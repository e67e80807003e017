/**
 * The floor of the `repodata-N` bench case (bench/cases/disk.ts runs it as a child process under
 * GNU time): every RPM of folder argv[2] read and hashed with SHA-256 on argv[3] worker threads
 * (the build's hash pool's lanes), each reading its files itself, and nothing else: no
 * headers, XML or gzip. A package's checksum covers all of its bytes, so no repodata writer in
 * Node on these cores does less. Plain Node only, so that none of dudkit's own cost is in it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The pool's read-and-hash loop (readRangeSync) written out: importing it would load dudkit's
 * modules in each worker, about 10 ms of each worker's start (measured), which a floor must not hold.
 */
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { closeSync, openSync, readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(4 << 20);
parentPort.on('message', (path) => {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) h.update(buffer.subarray(0, n));
  closeSync(fd);
  parentPort.postMessage(h.digest('hex'));
});`;

const [dir, lanes] = [process.argv[2]!, Number(process.argv[3])];
const files = readdirSync(dir).filter((n) => n.endsWith('.rpm')).map((n) => join(dir, n));
const workers = Array.from({ length: Math.min(lanes, files.length) }, () => new Worker(WORKER, { eval: true }));
let next = 0;
let done = 0;
await new Promise<void>((resolve, reject) => {
  if (files.length === 0) return resolve();
  for (const worker of workers) {
    const give = (): void => void (next < files.length && worker.postMessage(files[next++]));
    worker.on('error', reject);
    worker.on('message', () => {
      if (++done === files.length) resolve();
      give();
    });
    // two queued on each, as the pool's lanes have them
    give();
    give();
  }
});
await Promise.all(workers.map((w) => w.terminate()));
