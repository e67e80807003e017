import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compareEvr, flagsOp, opFlags, parseEvr, rawSenseMatches, rpmvercmp, satisfies,
  type Cmp, type Dep, type Op,
} from '../src/formats/rpm/vercmp.js';
import { SENSE } from '../src/formats/rpm/tags.js';

const { EQUAL: RPMSENSE_EQUAL, GREATER: RPMSENSE_GREATER, LESS: RPMSENSE_LESS } = SENSE;
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-vercmp-');

/** Run a Lua script inside the real rpm (one process for a whole table) and return its lines. */
function rpmLua(script: string): string[] {
  const file = join(dir, `s${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(file, script);
  return execFileSync('rpm', ['--eval', `%{lua: dofile("${file}")}`], { encoding: 'utf8' }).trimEnd().split('\n');
}

/**
 * The real rpm's raw `rpmvercmp` (the C function anaconda's dd_list calls), from librpmio through
 * ctypes: rpm's Lua `rpm.vercmp` and python's `labelCompare` parse [E:]V[-R] first, so they are
 * the oracle for `compareEvr`, not for this.
 */
function rpmRawVercmp(pairs: readonly (readonly [string, string])[]): number[] {
  const py = [
    'import ctypes, ctypes.util, json, sys',
    'lib = ctypes.CDLL(ctypes.util.find_library("rpmio"))',
    'lib.rpmvercmp.argtypes = [ctypes.c_char_p, ctypes.c_char_p]',
    'print(json.dumps([lib.rpmvercmp(a.encode(), b.encode()) for a, b in json.load(sys.stdin)]))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(pairs), encoding: 'utf8' })) as number[];
}

/** Lua long-bracket literal: no escaping needed for any test string. */
const lua = (s: string): string => `[==[${s}]==]`;

// [a, b, expected]: expectations written by hand from rpm's rules, then confirmed by rpm itself
const PAIRS: [string, string, Cmp][] = [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['2.0.1', '2.0', 1],
  ['2.0', '2.0.1', -1],
  ['1.0a', '1.0', 1],
  ['5.5p1', '5.5p10', -1],
  ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1],
  ['xyz10', 'xyz10.1', -1],
  ['xyz.4', '8', -1],
  ['8', 'xyz.4', 1],
  ['1.0010', '1.9', 1],
  ['1.05', '1.5', 0],
  ['0001', '1', 0],
  ['1.0', '1', 1],
  ['1.0.', '1.0', 0],
  ['1_0', '1.0', 0],
  ['a+', 'a_', 0],
  ['1a', '1.a', 0],
  ['1a', '1b', -1],
  ['abc', 'ABC', 1],
  ['b', 'a', 1],
  ['', '', 0],
  ['', '1', -1],
  ['', '.', 0],
  ['12345678901234567890', '12345678901234567891', -1],
  ['99999999999999999999', '100000000000000000000', -1],
  // tilde: before everything, even the end of the string
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0~rc1', '1.0~', 1],
  ['1~', '1', -1],
  ['1~~', '1~', -1],
  ['~', '', -1],
  ['1.0~rc1', '1.0.0~rc1', -1],
  // caret: after the end of the string, before any further segment
  ['1.0^', '1.0', 1],
  ['1.0^git1', '1.0', 1],
  ['1.0^git1', '1.01', -1],
  ['1.0^20160101', '1.0.1', -1],
  ['1.0^20160101^git1', '1.0^20160101', 1],
  ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.0~rc1^git1', '1.0', -1],
  ['1.0^git1~pre', '1.0^git1', -1],
  ['1.0^git1', '1.0^git2', -1],
  ['^', '', 1],
  ['1^', '1~', 1],
  // non-ASCII bytes are separators, as rpm's ASCII-only risalnum makes them
  ['1.é2', '1.2', 0],
  ['1.😀2', '1.2', 0],
  // installer kernels (redhat-dud.md §3.2)
  ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-362.el9', 1],
  ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-362.8.1.el9_3.x86_64', 0],
  ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-362.el9.x86_64', 1],
  ['5.14.0-362.el9.x86_64', '5.14.0-362.el9', 1],
  ['5.14.0-427.13.1.el9_4.x86_64', '5.14.0-362.8.1.el9_3.x86_64', 1],
  ['5.14.0-70.13.1.el9_0.x86_64', '5.14.0-70.el9.x86_64', 1],
  ['5.14.0-503.11.1.el9_5.x86_64', '5.14.0-503.el9.x86_64', 1],
  ['5.14.0-362.8.1.el9_3.x86_64', '5.15', -1],
  ['4.18.0-513.5.1.el8_9.x86_64', '5.14.0-70.el9.x86_64', -1],
  ['2.6.32-754.el6.x86_64', '2.6.32-71.el6', 1],
  ['6.12.0-55.9.1.el10_0.x86_64', '6.12.0-55.el10.x86_64', 1],
  ['1:5.14', '5.14', -1],
  ['5.14.0-362.el9', '5.14.0', 1],
];

describe('rpmvercmp', () => {
  it('matches the expected table, both ways round', () => {
    for (const [a, b, want] of PAIRS) {
      expect([a, b, rpmvercmp(a, b)]).toEqual([a, b, want]);
      expect([b, a, rpmvercmp(b, a)]).toEqual([b, a, want === 0 ? 0 : -want]);
    }
  });

  it("agrees with the real rpm's rpmvercmp (librpmio) on every pair, both ways round", () => {
    const all = PAIRS.flatMap(([a, b]) => [[a, b], [b, a]] as const);
    expect(all.map(([a, b]) => rpmvercmp(a, b))).toEqual(rpmRawVercmp(all));
  });

  it("agrees with the real rpm's rpmvercmp (librpmio) on 3000 generated pairs", () => {
    // fixed-seed generator over the characters that matter: digits, letters, separators, ~ ^
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = ['0', '1', '2', '9', '10', '007', 'a', 'b', 'Z', 'el', '.', '-', '_', '+', '~', '^'];
    const word = (): string => Array.from({ length: rand(6) }, () => alphabet[rand(alphabet.length)]).join('');
    const pairs = Array.from({ length: 3000 }, () => {
      const a = word();
      return [a, rand(4) === 0 ? a + word() : word()] as const;
    });
    expect(pairs.map(([a, b]) => rpmvercmp(a, b))).toEqual(rpmRawVercmp(pairs));
  });
});

const EVRS = ['1:2.3-4', '2.3', '2.3-4', '0:2.3-4', ':2.3-4', '2.3-4-5', '1:2.3', '5.14.0-362.8.1.el9_3.x86_64', '10:1.0~rc1-1.el9', 'a:1-2', '1:2:3-4', '-1'];

describe('parseEvr and compareEvr', () => {
  it('split [E:]V[-R] like rpm.ver of the real rpm', () => {
    const script = EVRS.map((e) => `local v = rpm.ver(${lua(e)}); io.write(tostring(v.e), "|", tostring(v.v), "|", tostring(v.r), "\\n")`).join('\n');
    const got = rpmLua(script);
    const mine = EVRS.map((e) => {
      const p = parseEvr(e);
      return `${p.epoch ?? 'nil'}|${p.version}|${p.release ?? 'nil'}`;
    });
    expect(mine).toEqual(got);
  });

  it("order EVRs like the real rpm's Lua rpm.vercmp (missing epoch = 0, missing release empty)", () => {
    const list = ['1:2.3-4', '2.3', '2.3-4', '0:2.3-4', '2.3-5', '1:2.3', '2.4', '2.3~rc1-1', '5.14.0-362.el9', '5.14.0-362.8.1.el9_3'];
    const pairs = list.flatMap((a) => list.map((b) => [a, b] as const));
    const script = pairs
      .map(([a, b]) => `io.write(rpm.vercmp(${lua(a)}, ${lua(b)}), "\\n")`)
      .join('\n');
    const got = rpmLua(script).map(Number);
    expect(pairs.map(([a, b]) => compareEvr(a, b))).toEqual(got);
  });
});

// [provide, require] in rpm notation "name op evr" (or bare name)
const DEPS: [string, string][] = [
  ['kernel-modules >= 5.14.0-362.8.1.el9_3.x86_64', 'kernel-modules = 5.14.0-362.8.1.el9_3.x86_64'],
  ['kernel-modules >= 5.14.0-362.8.1.el9_3.x86_64', 'kernel-modules = 5.14.0-427.13.1.el9_4.x86_64'],
  ['kernel-modules >= 5.14.0-362.8.1.el9_3.x86_64', 'kernel-modules = 5.14.0-284.11.1.el9_2.x86_64'],
  ['kernel-modules = 5.14.0-362.el9', 'kernel-modules = 5.14.0-362.8.1.el9_3.x86_64'],
  ['kernel-modules = 5.14.0-362.8.1.el9_3.x86_64', 'kernel-modules = 5.14.0-362.8.1.el9_3.x86_64'],
  ['kernel-modules > 5.14.0-362.8.1.el9_3.x86_64', 'kernel-modules = 5.14.0-362.8.1.el9_3.x86_64'],
  ['kernel-modules < 5.15', 'kernel-modules = 5.14.0-362.8.1.el9_3.x86_64'],
  ['kernel-modules', 'kernel-modules = 5.14.0-362.8.1.el9_3.x86_64'],
  ['kernel-modules = 5.14.0', 'kernel-modules = 5.14.0-362.8.1.el9_3.x86_64'],
  ['kernel-modules = 5.14.0-362.8.1.el9_3.x86_64', 'kernel-modules >= 5.14.0'],
  ['kernel-modules = 5.14.0-362.8.1.el9_3.x86_64', 'kernel-modules > 5.14.0'],
  ['kernel-modules = 5.14.0-362.8.1.el9_3.x86_64', 'kernel-modules'],
  ['kernel-modules = 5.14.0-362.8.1.el9_3.x86_64', 'other = 5.14.0-362.8.1.el9_3.x86_64'],
  ['foo = 1:1.0-1', 'foo >= 1.0'],
  ['foo = 1:1.0-1', 'foo = 1.0-1'],
  ['foo = 1.0-1', 'foo < 1:0.5'],
  ['foo = 0:1.0-1', 'foo = 1.0-1'],
  ['foo = 1.0-1', 'foo = 0:1.0-1'],
  ['foo <= 2.0', 'foo >= 2.0'],
  ['foo < 2.0', 'foo > 2.0'],
  ['foo < 2.0', 'foo < 1.0'],
  ['foo > 2.0', 'foo > 3.0'],
  ['foo > 2.0', 'foo < 3.0'],
  ['foo > 2.0', 'foo < 2.0'],
  ['foo = 2.0~rc1-1', 'foo >= 2.0'],
  ['foo = 2.0^git1-1', 'foo > 2.0'],
  ['foo = 2.0-1', 'foo < 2.0-1'],
  ['foo = 2.0-1', 'foo <= 2.0-1'],
  ['foo >= 2.0-1', 'foo <= 2.0-1'],
  ['foo >= 2.0-2', 'foo <= 2.0-1'],
];

function parseDep(s: string): { name: string; op?: Op; evr?: string } {
  const [name, op, evr] = s.split(' ') as [string, Op | undefined, string | undefined];
  return op ? { name, op, evr: evr ?? '' } : { name };
}

/** The real rpm's `rpmdsCompare`, through python3-rpm's `rpm.ds(...).Compare`. */
function rpmDsCompare(rows: readonly (readonly [Dep, Dep])[]): boolean[] {
  const py = [
    'import rpm, json, sys',
    'out = []',
    'for p, r in json.load(sys.stdin):',
    '    a = rpm.ds((p[0], p[1], p[2]), "provides")',
    '    b = rpm.ds((r[0], r[1], r[2]), "requires")',
    '    out.append(bool(a.Compare(b)))',
    'print(json.dumps(out))',
  ].join('\n');
  const input = JSON.stringify(rows.map((pr) => pr.map((d) => [d.name, d.op ? opFlags(d.op) : 0, d.evr ?? ''])));
  // /usr/bin/python3: the distribution's interpreter, where python3-rpm (pulled in by dnf) lives
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { input, encoding: 'utf8' })) as boolean[];
}

describe('satisfies', () => {
  it("agrees with the real rpm's rpmdsCompare (python3-rpm rpm.ds.Compare) on every pair", () => {
    const rows = DEPS.map(([p, r]) => [parseDep(p), parseDep(r)] as const);
    const want = rpmDsCompare(rows);
    expect(rows.map(([p, r]) => satisfies(p, r))).toEqual(want);
    // and the answers an installer needs are the obvious ones
    expect(want.slice(0, 8)).toEqual([true, true, false, false, true, false, true, true]);
  });

  it("agrees with the real rpm's rpmdsCompare on 2000 generated ranges", () => {
    let seed = 0x9e3779b9;
    const rand = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const ops: Op[] = ['<', '<=', '=', '>=', '>'];
    const epochs = ['', '', '0:', '1:', '2:'];
    const versions = ['1.0', '1.0~rc1', '1.0^g1', '1.1', '2', '1.0.0'];
    const releases = ['', '', '-1', '-2', '-1.el9', '-1~pre'];
    const evr = (): string => epochs[rand(epochs.length)]! + versions[rand(versions.length)]! + releases[rand(releases.length)]!;
    const dep = (): Dep => (rand(10) === 0 ? { name: 'x' } : { name: 'x', op: ops[rand(ops.length)]!, evr: evr() });
    const rows = Array.from({ length: 2000 }, () => [dep(), dep()] as const);
    expect(rows.map(([p, r]) => satisfies(p, r))).toEqual(rpmDsCompare(rows));
  });

  it('accepts flags words as stored in headers', () => {
    expect(satisfies({ name: 'k', flags: 0x0c | 0x40, evr: '1.0' }, { name: 'k', flags: RPMSENSE_EQUAL, evr: '1.1' })).toBe(true);
    expect(flagsOp(0x0100000a)).toBe('<=');
    expect(flagsOp(0x40)).toBeUndefined();
  });
});

describe('rawSenseMatches (anaconda dd_list test)', () => {
  const K = '5.14.0-362.8.1.el9_3.x86_64';
  // the table of redhat-dud.md §3.2
  const TABLE: [number, string, string, boolean][] = [
    [RPMSENSE_EQUAL, '5.14.0-362.el9', K, false],
    [RPMSENSE_EQUAL, K, K, true],
    [RPMSENSE_GREATER | RPMSENSE_EQUAL, '5.14.0-362.el9.x86_64', K, true],
    [RPMSENSE_GREATER | RPMSENSE_EQUAL, '5.14.0-362.el9', '5.14.0-362.el9.x86_64', true],
    [0, '', K, false],
    [RPMSENSE_GREATER, K, K, false],
    [RPMSENSE_LESS, '5.15', K, true],
    [RPMSENSE_EQUAL, '19.0', '19.0', true],
    [RPMSENSE_GREATER | RPMSENSE_EQUAL, '19', '19.0', true],
    [RPMSENSE_EQUAL, '34.24', '19.0', false],
  ];
  it("gives the spec table, with the comparisons confirmed by the real rpm's rpmvercmp", () => {
    expect(TABLE.map(([f, v, k]) => rawSenseMatches(k, f, v))).toEqual(TABLE.map((t) => t[3]));
    expect(TABLE.map(([, v, k]) => rpmvercmp(k, v))).toEqual(rpmRawVercmp(TABLE.map(([, v, k]) => [k, v] as const)));
  });
});
