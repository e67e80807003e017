declare module 'unbzip2-stream' {
  import type { Duplex } from 'node:stream';
  export default function unbzip2(): Duplex;
}

// The runtime API of lzma-native that dudkit uses (its published types do not match it).
declare module 'lzma-native' {
  import type { Transform } from 'node:stream';
  interface StreamOptions {
    preset?: number;
    check?: number;
    threads?: number;
    blockSize?: number;
    flags?: number;
    synchronous?: boolean;
    /** rawEncoder: the filter chain, e.g. `[{ id: FILTER_LZMA2, options: { preset } }]` */
    filters?: { id: string; options?: { preset?: number } }[];
  }
  /** The native stream under the Transforms (`new Stream()`, one coder per stream). */
  interface NativeStream {
    autoDecoder(options: { flags?: number }): void;
    /** Queue `chunk` (null: finish) for coding, on the thread pool when `async`. */
    code(chunk: Uint8Array | null, async: boolean): void;
    /** End the coder and free its memory. */
    resetUnderlying(): void;
    /** Called per output buffer, with `null` (and the error, if any) at the end, and with the count of input chunks consumed. */
    bufferHandler: (buf: Uint8Array | null | undefined, processedChunks: number | undefined, error: Error | null | undefined) => void;
  }
  const lzma: {
    Stream: new () => NativeStream;
    createStream(coder: 'autoDecoder' | 'easyEncoder' | 'rawEncoder', options?: StreamOptions): Transform;
    easyEncoderMemusage(preset: number): number;
    CHECK_CRC32: number;
    CHECK_CRC64: number;
    CHECK_SHA256: number;
    CONCATENATED: number;
    FILTER_LZMA2: string;
  };
  export default lzma;
}
