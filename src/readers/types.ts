/**
 * The read side's one shape (libarchive's format bidding): every reader of a registry bids on a
 * path, the highest bid wins, and the winner inspects it (and verifies it, when the path is a
 * medium an installer reads). A new medium adds one reader to the registry.
 */
import type { Context } from '../context.js';
import type { Opened } from '../media/medium.js';
import type { Finding } from '../findings.js';
import type { KabiSet } from '../rules/kabi.js';

/** The first 64 KiB of a file (empty for a folder), which readers bid on with the opened medium. */
export interface Head {
  path: string;
  bytes: Uint8Array;
  isDirectory: boolean;
}

/** What `inspect` tells about a path: facts (the JSON document) and what is wrong, if it checks. */
export interface Inspection<F = unknown> {
  /** What the report describes (iso9660, rpm, rhdd3, …); a reader may report its container's kind. */
  kind: string;
  path: string;
  facts: F;
  findings: Finding[];
}

/** What `verify` finds: the consumer's verdict, its findings and the medium-specific account. */
export interface Verification<D = unknown> {
  medium: string;
  /** rhdd3, rhel5, xenserver-legacy, usb, pxe, attach, … */
  kind: string;
  ok: boolean;
  findings: Finding[];
  details: D;
}

/** A verification with its text: the account alone (for nesting) and the whole report. */
export interface VerifyReport<D = unknown> extends Verification<D> {
  /** The account without findings, the medium named as the caller asked (a member name when nested). */
  account: string;
  text: string;
}

export interface VerifyOptions {
  /** Installer kernels (`uname -r`, or release names such as `rhel-9.4`) to check the disk against. */
  kernels?: string[];
  /** kABI references (`Module.symvers` or stablelist files) modules are checked against: for every kernel, or for the one named. */
  kabi?: (string | { file: string; kernel?: string })[];
  /** Public key file signed media are checked against (XenServer update packs, SUSE updates' `.asc`). */
  key?: string;
  /** PEM certificates X.509 signatures are checked against (ESXi VIBs): signer lookup and trust anchors. */
  ca?: string;
  /**
   * false: signatures that cannot be checked (no key) are a warning, not an error
   * (`--no-signature-check`). Default true: a signed medium whose signatures are unchecked fails.
   */
  signatureCheck?: boolean;
  /** SUSE driver updates: the installers' dists to check which directory each takes. */
  dists?: string[];
}

/** An inspection rendered: its text (the account, then the findings) and its JSON document. */
export interface InspectReport<F = unknown> extends Inspection<F> {
  text: string;
  /** What `inspect --json` prints: the kind, the facts as the reader shows them, the findings. */
  json: object;
}

/**
 * What a reader gets besides the path: the context, and the same registry's readers for media
 * found inside this one (a disk image in an overlay), spooled to `path` and named `name` in texts.
 */
export interface ReadEnv {
  ctx: Context;
  /** As `VerifyOptions.ca`, for inspect too. */
  ca?: string;
  inspectNested(path: string, name: string): Promise<InspectReport>;
  /**
   * With the installer kernels and key of this verification (none when inspecting); `foundBy` is
   * how the consumer finds the nested medium when the outer one decides it (not its own label).
   */
  verifyNested(path: string, name: string, foundBy?: string): Promise<VerifyReport>;
}

export interface VerifyEnv extends ReadEnv {
  kernels: string[];
  dists?: string[];
  key?: string;
  signatureCheck?: boolean;
  /** The loaded kABI references, when the caller gave any. */
  kabi?: KabiSet;
  /** Set for a medium inside another: the outer medium's rule that finds it. */
  foundBy?: string;
}

export interface Reader<F = unknown, D = unknown> {
  readonly kind: string;
  /** How sure this reader is that the path is its kind: 0 = not mine; the highest bid wins. */
  bid(head: Head, opened: Opened | undefined): number | Promise<number>;
  inspect(path: string, opened: Opened | undefined, env: ReadEnv): Promise<Inspection<F>>;
  verify?(path: string, opened: Opened | undefined, env: VerifyEnv): Promise<Verification<D>>;
  /** The views, without findings (the caller adds them once); `name` stands for the path in texts. */
  render: {
    inspect(r: Inspection<F>, name: string): string;
    /** The facts as the JSON document shows them (default: as they are). */
    json?(r: Inspection<F>): object;
    verify?(r: Verification<D>, name: string): string;
  };
}

/** An ordered list of readers; order does not matter (bids decide), ties are a bug. */
export type Registry = readonly Reader<any, any>[];
