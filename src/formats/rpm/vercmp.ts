/**
 * rpm's version comparison and dependency range overlap, as pure functions.
 *
 * `rpmvercmp` follows rpm's `rpmio/rpmvercmp.c`: a version string is a run of alphabetic or
 * numeric segments separated by anything else (ASCII only, as rpm's `risalnum`); numbers compare
 * by value (leading zeros ignored) and beat letters; `~` sorts before everything, even the end of
 * the string (`1.0~rc1 < 1.0`); `^` sorts after the end of the string but before any further
 * segment (`1.0 < 1.0^git1 < 1.0.1`). `satisfies` is rpm's `rpmdsCompare`: do two (name, sense,
 * [E:]V[-R]) ranges overlap.
 */

import { SENSE } from './tags.js';

export type Cmp = -1 | 0 | 1;

const { LESS: RPMSENSE_LESS, GREATER: RPMSENSE_GREATER, EQUAL: RPMSENSE_EQUAL } = SENSE;
/** The bits that take part in comparisons. */
const RPMSENSE_SENSEMASK = RPMSENSE_LESS | RPMSENSE_GREATER | RPMSENSE_EQUAL;

export type Op = '<' | '<=' | '=' | '>=' | '>';

const OP_FLAGS: Record<Op, number> = {
  '<': RPMSENSE_LESS,
  '<=': RPMSENSE_LESS | RPMSENSE_EQUAL,
  '=': RPMSENSE_EQUAL,
  '>=': RPMSENSE_GREATER | RPMSENSE_EQUAL,
  '>': RPMSENSE_GREATER,
};

export function opFlags(op: Op): number {
  return OP_FLAGS[op];
}

/** The operator of a flags word, or undefined for an unversioned (existence) dependency. */
export function flagsOp(flags: number): Op | undefined {
  switch (flags & RPMSENSE_SENSEMASK) {
    case RPMSENSE_LESS: return '<';
    case RPMSENSE_LESS | RPMSENSE_EQUAL: return '<=';
    case RPMSENSE_EQUAL: return '=';
    case RPMSENSE_GREATER | RPMSENSE_EQUAL: return '>=';
    case RPMSENSE_GREATER: return '>';
    default: return undefined;
  }
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const TILDE = 0x7e;
const CARET = 0x5e;
/** Past the end of the string: NaN compares unequal to every character code. */
const END = NaN;

function sign(n: number): Cmp {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

export function rpmvercmp(a: string, b: string): Cmp {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): number => (k < s.length ? s.charCodeAt(k) : END);
  const isSep = (c: number): boolean => !Number.isNaN(c) && !isDigit(c) && !isAlpha(c) && c !== TILDE && c !== CARET;

  while (i < a.length || j < b.length) {
    while (isSep(at(a, i))) i++;
    while (isSep(at(b, j))) j++;
    const ca = at(a, i);
    const cb = at(b, j);

    // `~` sorts before anything, including the end of the other string
    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    // `^` sorts after the end of the other string but before any other segment
    if (ca === CARET || cb === CARET) {
      if (Number.isNaN(ca)) return -1;
      if (Number.isNaN(cb)) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (Number.isNaN(ca) || Number.isNaN(cb)) break;

    // one segment of a's kind from each side; b's may be empty if it is of the other kind
    const numeric = isDigit(ca);
    const inSegment = numeric ? isDigit : isAlpha;
    let ei = i;
    while (ei < a.length && inSegment(a.charCodeAt(ei))) ei++;
    let ej = j;
    while (ej < b.length && inSegment(b.charCodeAt(ej))) ej++;
    if (ej === j) return numeric ? 1 : -1;

    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ei;
    j = ej;
  }
  // equal segments; whichever string still has characters left wins (separators alone do not)
  const restA = i < a.length;
  const restB = j < b.length;
  if (!restA && !restB) return 0;
  return restA ? 1 : -1;
}

/** `[E:]V[-R]`; epoch/release undefined when absent (rpm then skips comparing them). */
export interface Evr {
  readonly epoch?: string;
  readonly version: string;
  readonly release?: string;
}

/** Split as rpm's `rpmverParse`: epoch = leading digits before `:`, release after the last `-`. */
export function parseEvr(evr: string): Evr {
  let s = 0;
  while (s < evr.length && isDigit(evr.charCodeAt(s))) s++;
  let epoch: string | undefined;
  let rest = evr;
  if (evr[s] === ':') {
    epoch = evr.slice(0, s) || '0';
    rest = evr.slice(s + 1);
  }
  const dash = rest.lastIndexOf('-');
  // rpm looks for the last `-` after the epoch digits, so a `-` inside the epoch part cannot occur
  if (dash < 0) return epoch === undefined ? { version: rest } : { epoch, version: rest };
  const version = rest.slice(0, dash);
  const release = rest.slice(dash + 1);
  return epoch === undefined ? { version, release } : { epoch, version, release };
}

/**
 * rpm's `rpmverCmp` (rpm's Lua `rpm.vercmp`, `rpm.ver` ordering): a missing epoch counts as 0, a
 * missing release as the empty string (so `2.3 < 2.3-4`). Dependency ranges use `satisfies`.
 */
export function compareEvr(a: Evr | string, b: Evr | string): Cmp {
  const x = typeof a === 'string' ? parseEvr(a) : a;
  const y = typeof b === 'string' ? parseEvr(b) : b;
  const rc = rpmvercmp(x.epoch ?? '0', y.epoch ?? '0');
  if (rc !== 0) return rc;
  const rv = rpmvercmp(x.version, y.version);
  if (rv !== 0) return rv;
  return rpmvercmp(x.release ?? '', y.release ?? '');
}

/** One side of a dependency: sense given either as flags (header form) or as an operator. */
export interface Dep {
  readonly name: string;
  readonly flags?: number;
  readonly op?: Op;
  /** `[E:]V[-R]`; empty or absent for an unversioned dependency. */
  readonly evr?: string;
}

function depFlags(d: Dep): number {
  return (d.flags ?? (d.op ? OP_FLAGS[d.op] : 0)) & RPMSENSE_SENSEMASK;
}

const nonEmpty = (s: string | undefined): s is string => s !== undefined && s !== '';

/**
 * rpm's `rpmdsCompare`: does `provide` satisfy `require` (their ranges overlap)? Different names
 * never do; an unversioned side always does; otherwise compare E, V, R as `rpmverOverlap` does.
 */
export function satisfies(provide: Dep, require: Dep): boolean {
  if (provide.name !== require.name) return false;
  const f1 = depFlags(provide);
  const f2 = depFlags(require);
  if (f1 === 0 || f2 === 0 || !nonEmpty(provide.evr) || !nonEmpty(require.evr)) return true;
  const v1 = parseEvr(provide.evr);
  const v2 = parseEvr(require.evr);

  let sense: Cmp = 0;
  if (nonEmpty(v1.epoch) && nonEmpty(v2.epoch)) sense = rpmvercmp(v1.epoch, v2.epoch);
  else if (nonEmpty(v1.epoch) && epochValue(v1.epoch) > 0) sense = 1;
  else if (nonEmpty(v2.epoch) && epochValue(v2.epoch) > 0) sense = -1;

  if (sense === 0) {
    sense = rpmvercmp(v1.version, v2.version);
    if (sense === 0) {
      if (nonEmpty(v1.release) && nonEmpty(v2.release)) {
        sense = rpmvercmp(v1.release, v2.release);
      } else if ((nonEmpty(v1.release) && f2 & RPMSENSE_EQUAL) || (nonEmpty(v2.release) && f1 & RPMSENSE_EQUAL)) {
        // the side without a release matches any release when it includes equality
        return true;
      }
    }
  }
  return matchesSense(sense, f1, f2);
}

function matchesSense(sense: Cmp, f1: number, f2: number): boolean {
  if (sense < 0) return (f1 & RPMSENSE_GREATER) !== 0 || (f2 & RPMSENSE_LESS) !== 0;
  if (sense > 0) return (f1 & RPMSENSE_LESS) !== 0 || (f2 & RPMSENSE_GREATER) !== 0;
  return (f1 & f2 & (RPMSENSE_EQUAL | RPMSENSE_LESS | RPMSENSE_GREATER)) !== 0;
}

/** Like C `atol`: the leading decimal digits' value (0 if none). */
function epochValue(e: string): number {
  const m = /^\s*[+-]?\d+/.exec(e);
  return m ? Number.parseInt(m[0], 10) : 0;
}

/**
 * The installer's own test (anaconda `dd_list`, `redhat-dud.md` §3.2): compare the running value
 * (kernel `uname -r`, or the installer version) with the Provides version as raw text, no epoch
 * or release splitting, and check the sense bits. Unversioned entries never match.
 */
export function rawSenseMatches(running: string, flags: number, version: string): boolean {
  if (version === '' || (flags & RPMSENSE_SENSEMASK) === 0) return false;
  const r = rpmvercmp(running, version);
  return (r < 0 && (flags & RPMSENSE_LESS) !== 0) || (r === 0 && (flags & RPMSENSE_EQUAL) !== 0) || (r > 0 && (flags & RPMSENSE_GREATER) !== 0);
}
