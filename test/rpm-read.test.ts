import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { digestsOk, formatDependency, formatScript, openRpm, RPM_TYPE, type RpmPackage, SIGTAG, signatures, TAG, verifyDigests } from '../src/formats/rpm/index.js';
import { respecimen } from './helpers/rpm-specimen.js';
import { tempDir } from './helpers/tmp.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'rpms');
// top-level packages, the rpmsign-signed copy under signed/, the lzma package under legacy/
const rpms = ['', 'signed/', 'legacy/'].flatMap((sub) => readdirSync(join(dir, sub)).map((f) => sub + f)).filter((f) => f.endsWith('.rpm')).sort();
const tmp = tempDir('dudkit-rpm-read-');

const rpmq = (path: string, ...args: string[]) => execFileSync('rpm', ['-qp', '--nosignature', ...args, path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

async function drain(pkg: RpmPackage): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const { name, data } of pkg.payloadEntries()) {
    const parts: Uint8Array[] = [];
    for await (const c of data) parts.push(c);
    out.set(name, Buffer.concat(parts));
  }
  return out;
}

describe('RPM reader agrees with rpm on every fixture', () => {
  it('has gzip, xz, zstd, bzip2 and lzma payloads, a noarch and a source package', async () => {
    const pkgs = await Promise.all(rpms.map((f) => openRpm(join(dir, f))));
    expect(pkgs.filter((p) => p.signature.has(SIGTAG.RSA)).length).toBe(1);
    expect(new Set(pkgs.map((p) => p.payloadCompressor))).toEqual(new Set(['gzip', 'xz', 'zstd', 'bzip2', 'lzma']));
    expect(pkgs.some((p) => p.isSource)).toBe(true);
    expect(pkgs.some((p) => p.arch === 'noarch' && !p.isSource)).toBe(true);
  });

  for (const name of rpms) {
    const path = join(dir, name);

    it(`rpm -qp --qf NEVRA, compressor and source RPM of ${name}`, async () => {
      const pkg = await openRpm(path);
      const none = (v: string | number | undefined) => (v === undefined ? '(none)' : String(v));
      expect(`${pkg.name} ${none(pkg.epoch)} ${pkg.version} ${pkg.release} ${pkg.arch} ${none(pkg.payloadCompressorTag)} ${none(pkg.sourcerpm)}`).toBe(
        rpmq(path, '--qf', '%{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{ARCH} %{PAYLOADCOMPRESSOR} %{SOURCERPM}'),
      );
      expect(`${pkg.summary}|${pkg.license}|${none(pkg.url)}|${none(pkg.vendor)}|${pkg.buildtime}|${pkg.description}`).toBe(
        rpmq(path, '--qf', '%{SUMMARY}|%{LICENSE}|%{URL}|%{VENDOR}|%{BUILDTIME}|%{DESCRIPTION}'),
      );
      expect(pkg.isSource).toBe(name.endsWith('.src.rpm'));
      expect(pkg.lead.type).toBe(pkg.isSource ? 'source' : 'binary');
    });

    it(`rpm -qp --provides/--requires/--conflicts/--obsoletes/--recommends of ${name}`, async () => {
      const pkg = await openRpm(path);
      for (const kind of ['provides', 'requires', 'conflicts', 'obsoletes', 'recommends'] as const) {
        expect(pkg[kind].map(formatDependency), kind).toEqual(lines(rpmq(path, `--${kind}`)));
      }
    });

    it(`rpm -qp -l and the file attributes of ${name}`, async () => {
      const pkg = await openRpm(path);
      const listed = rpmq(path, '-l');
      expect(pkg.files.map((f) => f.path)).toEqual(listed.includes('(contains no files)') ? [] : lines(listed));
      const q = '[%{FILEMODES:octal} %{FILESIZES} %{FILEMTIMES} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS} %{FILEDIGESTS} %{FILELINKTOS}|\n]';
      expect(pkg.files.map((f) => `${f.mode.toString(8)} ${f.size} ${f.mtime} ${f.user} ${f.group} ${f.flags} ${f.digest} ${f.linkTo}|`)).toEqual(lines(rpmq(path, '--qf', q)));
    });

    it(`rpm -qp --scripts and --changelog of ${name}`, async () => {
      const pkg = await openRpm(path);
      expect(pkg.scripts.map(formatScript).join('')).toBe(rpmq(path, '--scripts'));
      const log = rpmq(path, '--qf', '[%{CHANGELOGTIME} %{CHANGELOGNAME}|%{CHANGELOGTEXT}\n]');
      expect(pkg.changelog.map((c) => `${c.time} ${c.author}|${c.text}\n`).join('')).toBe(log);
    });

    it(`payload members and bytes equal rpm2cpio | cpio -t / cpio -i for ${name}`, async () => {
      const pkg = await openRpm(path);
      const members = await drain(pkg);
      const names = lines(execSync(`rpm2cpio '${path}' | cpio -t --quiet`, { encoding: 'utf8' }));
      expect([...members.keys()]).toEqual(names);
      const out = join(tmp, name);
      mkdirSync(out, { recursive: true });
      execSync(`rpm2cpio '${path}' | cpio -idm --quiet`, { cwd: out });
      const regular = pkg.files.filter((f) => f.type === 'file' && !f.ghost);
      expect(regular.length).toBeGreaterThan(0);
      for (const f of regular) {
        const key = [...members.keys()].find((m) => m.replace(/^\.?\/+/, '') === f.path.replace(/^\/+/, ''))!;
        expect(members.get(key), f.path).toEqual(readFileSync(join(out, f.path)));
      }
    });

    it(`every digest verifies, as rpm -Kv says, for ${name}`, async () => {
      const pkg = await openRpm(path);
      const checks = await verifyDigests(pkg, { payload: true });
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      expect(digestsOk(checks)).toBe(true);
      const names = checks.map((c) => c.name);
      const rpmK = execFileSync('rpm', ['-Kv', '--nosignature', path], { encoding: 'utf8' });
      for (const line of lines(rpmK).slice(1)) {
        const [what, verdict] = line.trim().split(': ');
        expect(verdict).toBe('OK');
        expect(names).toContain(what);
      }
      expect(names).toContain('Payload size');
      expect(names.filter((n) => n.startsWith('File ')).length).toBe(pkg.files.filter((f) => f.type === 'file' && f.size > 0 && !f.ghost).length);
    });
  }
});

describe('RPM reader on bad input', () => {
  const base = join(dir, rpms.find((f) => f.startsWith('kmod-') && f.includes('el9_3'))!);
  const good = readFileSync(base);
  let n = 0;

  /** Run everything a consumer would; return the error message, or '' when all went through. */
  async function outcome(bytes: Uint8Array): Promise<{ error: string; digestsOk: boolean; path: string }> {
    const path = join(tmp, `bad-${n++}.rpm`);
    writeFileSync(path, bytes);
    try {
      const pkg = await openRpm(path);
      await drain(pkg);
      const checks = await verifyDigests(pkg, { payload: true });
      return { error: '', digestsOk: digestsOk(checks), path };
    } catch (err) {
      expect(err, String((err as Error).stack)).toBeInstanceOf(UserError);
      const msg = (err as Error).message;
      expect(msg.startsWith(`${path}: `)).toBe(true);
      expect(msg).not.toContain('\n');
      return { error: msg.slice(path.length + 2), digestsOk: false, path };
    }
  }

  /**
   * rpm's own verdict on the digests of each file (one `rpm -K --nosignature` run for many files):
   * undefined where rpm refuses the file. A refused file leaves "path:" without a newline on
   * stdout (the error goes to stderr), so the next file's verdict follows on the same line.
   */
  function rpmDigestsOk(paths: string[]): Map<string, boolean | undefined> {
    const out = spawnSync('rpm', ['-K', '--nosignature', ...paths], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout;
    const verdict = new Map<string, boolean | undefined>(paths.map((p) => [p, undefined]));
    for (const piece of out.split(/(?<=:)(?=\/)|\n/)) {
      const m = /^(.*): (digests OK|[A-Za-z ]*NOT OK)$/.exec(piece);
      if (m && verdict.has(m[1]!)) verdict.set(m[1]!, m[2] === 'digests OK');
    }
    return verdict;
  }

  it('knows the layout of the base fixture', async () => {
    const pkg = await openRpm(base);
    expect(pkg.headerStart).toBeGreaterThan(96);
    expect(pkg.payloadOffset).toBeLessThan(good.length);
  });

  it('names the file and the problem for truncations at every part', async () => {
    const pkg = await openRpm(base);
    const cuts: [number, RegExp][] = [
      [0, /shorter than the 96-byte lead/],
      [50, /shorter than the 96-byte lead/],
      [100, /truncated in the signature header/],
      [pkg.headerStart - 8, /truncated in the signature header/],
      [pkg.headerStart + 30, /truncated in the header/],
      [pkg.headerEnd - 1, /truncated in the header/],
      [pkg.payloadOffset, /no payload/],
      [pkg.payloadOffset + 40, /corrupt xz|truncated|unexpected end/i],
      // the cpio ends before the cut: only the digests see it, as with rpm -K
      [good.length - 30, /digests NOT OK/],
    ];
    for (const [at, message] of cuts) {
      const { error, digestsOk } = await outcome(good.subarray(0, at));
      expect(error || (digestsOk ? '' : 'digests NOT OK'), `cut at ${at}`).toMatch(message);
    }
  });

  it('names the problem for bytes flipped in the lead, the headers and their region trailers', async () => {
    const pkg = await openRpm(base);
    const sigEnd = pkg.signature.range.end;
    const sigIl = pkg.signature.bytes.length && new DataView(pkg.signature.bytes.buffer, pkg.signature.bytes.byteOffset).getUint32(8);
    const mainIl = new DataView(pkg.header.bytes.buffer, pkg.header.bytes.byteOffset).getUint32(8);
    const h = pkg.headerStart;
    const flips: [string, (b: Buffer) => void, RegExp][] = [
      ['lead magic', (b) => (b[1] = 0), /bad lead magic/],
      ['lead major', (b) => (b[4] = 9), /format version 9/],
      ['lead signature type', (b) => (b[79] = 1), /signature type 1/],
      ['signature magic', (b) => (b[97] ^= 0xff), /signature header: bad magic/],
      ['signature il', (b) => b.writeUInt32BE(1000, 104), /signature header: 1000 index entries/],
      ['signature dl', (b) => b.writeUInt32BE(0x7fffffff, 108), /signature header: \d+ bytes of data/],
      ['signature region type', (b) => b.writeUInt32BE(4, 96 + 16 + 4), /signature header: region tag 62: type 4/],
      ['signature trailer', (b) => b.writeInt32BE(-16 * (sigIl + 1), sigEnd - 8), /signature header: region 62 size/],
      ['signature entry type', (b) => b.writeUInt32BE(11, 96 + 16 + 16 * (sigIl - 1) + 4), /signature header: index entry .*unknown type/],
      ['header magic', (b) => (b[h] ^= 0xff), /header: bad magic/],
      ['header il', (b) => b.writeUInt32BE(0x00ffffff, h + 8), /header: 16777215 index entries/],
      ['header dl past the end', (b) => b.writeUInt32BE(0x00fffff0, h + 12), /truncated in the header/],
      ['header region tag', (b) => b.writeUInt32BE(62, h + 16), /region tag 62 where 63 was expected/],
      ['header trailer tag', (b) => b.writeUInt32BE(61, pkg.headerEnd - 16), /region trailer/],
      ['header trailer offset', (b) => b.writeInt32BE(-16 * (mainIl + 1), pkg.headerEnd - 8), /region 63 size/],
      ['header entry offset', (b) => b.writeInt32BE(0x7fff0000, h + 16 + 16 * 3 + 8), /index entry 3 .*(overlaps|outside)/],
      ['header entry count', (b) => b.writeUInt32BE(0x7fffffff, h + 16 + 16 * (mainIl - 1) + 12), /index entry .*(runs past|count)/],
      ['header entry type', (b) => b.writeUInt32BE(2, h + 16 + 16 * 2 + 4), /index entry 2 .*rpmtag.h declares/],
    ];
    for (const [what, flip, message] of flips) {
      const b = Buffer.from(good);
      flip(b);
      const { error } = await outcome(b);
      expect(error, what).toMatch(message);
    }
  });

  it('only ever fails with a one-line error naming the file, for a byte flipped anywhere in the lead and headers', async () => {
    const pkg = await openRpm(base);
    let refused = 0;
    const readThrough = new Map<string, { at: number; digestsOk: boolean }>();
    for (let at = 0; at < pkg.headerEnd; at += at < 96 ? 5 : 19) {
      const b = Buffer.from(good);
      b[at] ^= 0xa5;
      const o = await outcome(b);
      if (o.error) refused++;
      else readThrough.set(o.path, { at, digestsOk: o.digestsOk });
    }
    expect(refused).toBeGreaterThan(0);
    // where dudkit reads a flipped file through, rpm -K reads it too (a tag flipped negative is
    // below 100 for rpm's signed tag numbers, in either header), and its digest verdict is rpm's
    expect(readThrough.size).toBeGreaterThan(0);
    const rpmSays = rpmDigestsOk([...readThrough.keys()]);
    for (const [path, { at, digestsOk }] of readThrough) {
      expect([at, digestsOk], `rpm -K on the byte flipped at ${at}`).toEqual([at, rpmSays.get(path)]);
    }
  });

  it('reports a changed header byte as a header digest mismatch', async () => {
    const pkg = await openRpm(base);
    const b = Buffer.from(good);
    const at = b.indexOf('ACME 25GbE', pkg.headerStart);
    b[at] = 'a'.charCodeAt(0);
    const { error, digestsOk } = await outcome(b);
    expect(error).toBe('');
    expect(digestsOk).toBe(false);
    const bad = await verifyDigests(await openRpm(join(tmp, `bad-${n - 1}.rpm`)));
    expect(bad.filter((c) => !c.ok).map((c) => c.name)).toEqual(['Header SHA256 digest', 'Header SHA1 digest']);
  });

  it('never crashes on bytes flipped across the payload of every compressor', async () => {
    const flipped = new Map<string, { what: string; error: string; digestsOk: boolean }>();
    for (const name of rpms) {
      const bytes = readFileSync(join(dir, name));
      const pkg = await openRpm(join(dir, name));
      for (const frac of [0, 0.1, 0.5, 0.9]) {
        const b = Buffer.from(bytes);
        const at = pkg.payloadOffset + Math.floor(frac * (b.length - pkg.payloadOffset - 1));
        b[at] ^= 0x55;
        const { error, digestsOk, path } = await outcome(b);
        // either the decompressor/cpio reader refuses it, or the digests say so
        expect(error !== '' || !digestsOk, `${name} at ${at}`).toBe(true);
        flipped.set(path, { what: `${name} at ${at}`, error, digestsOk });
      }
    }
    // rpm -K agrees: a flipped payload byte breaks a digest (legacy packages without a payload
    // digest are checked by rpm through the header+payload MD5); where dudkit read the file, same verdict
    const rpmSays = rpmDigestsOk([...flipped.keys()]);
    for (const [path, { what, error, digestsOk }] of flipped) {
      expect([what, rpmSays.get(path)]).toEqual([what, false]);
      if (error === '') expect([what, digestsOk]).toEqual([what, rpmSays.get(path)]);
    }
  });
});

describe("odd packages rpm reads, remade from the fixtures as in rpm's and createrepo_c's test data", () => {
  const el8 = join(dir, rpms.find((f) => f.startsWith('kmod-') && f.includes('el8_9'))!);
  const el9 = join(dir, rpms.find((f) => f.startsWith('kmod-') && f.includes('el9_3'))!);
  const write = (name: string, bytes: Uint8Array) => {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    return path;
  };
  const inspectJson = async (path: string) => {
    const { inspect: inspectPath } = await import('../src/readers/index.js');
    const { createContext } = await import('../src/context.js');
    return inspectPath(path, { ctx: createContext({ epoch: 0 }) });
  };
  type Facts = { payload: { compressor: string | null }; digests: { ok: boolean; failed: { name: string }[]; unchecked: { name: string }[] } };

  it('entries after the signature region (rpm hello-2.0-1.x86_64-badima.rpm): rpm -Kv says OK and rpm -qp shows them; dudkit reads them too', async () => {
    // rpm reads the signature header with exact_size off (lib/header.c hdrblobVerifyRegion): the
    // trailer may count fewer entries than the header has
    const sigs = ['030204b8f2bd9700473045022100aa', '030204b8f2bd9700473045022100bb'];
    const path = write('after-region.rpm', await respecimen(el9, {
      afterRegion: [
        { tag: SIGTAG.FILESIGNATURES, type: RPM_TYPE.STRING_ARRAY, value: (await openRpm(el9)).files.map((_, i) => sigs[i % 2]!) },
        { tag: SIGTAG.FILESIGNATURELENGTH, type: RPM_TYPE.INT32, value: [sigs[0]!.length / 2] },
      ],
    }));
    // the region trailer still counts only the entries before them: 2 fewer than the header has
    const sigBytes = readFileSync(path).subarray(96);
    const il = sigBytes.readUInt32BE(8);
    const trailerAt = 16 + 16 * il + sigBytes.readInt32BE(16 + 8);
    expect([il, -sigBytes.readInt32BE(trailerAt + 8) / 16]).toEqual([il, il - 2]);
    const rpmK = execFileSync('rpm', ['-Kv', '--nosignature', path], { encoding: 'utf8' });
    expect(lines(rpmK).slice(1).length).toBeGreaterThan(2);
    expect(lines(rpmK).slice(1).every((l) => l.endsWith(': OK'))).toBe(true);
    const pkg = await openRpm(path);
    expect(pkg.signature.strings(SIGTAG.FILESIGNATURES)).toEqual(rpmq(path, '--qf', '[%{FILESIGNATURES}|]').split('|').slice(0, -1));
    expect(pkg.signature.number(SIGTAG.FILESIGNATURELENGTH)).toBe(Number(rpmq(path, '--qf', '%{FILESIGNATURELENGTH}')));
    expect(digestsOk(await verifyDigests(pkg, { payload: true }))).toBe(true);
    expect((await inspectJson(path)).findings).toEqual([]);
  });

  it('a tag dudkit has no name for, stored with another type than rpmtag.h gives it (NVRA 1196 as INT16): rpm -K refuses the header, so does dudkit', async () => {
    const path = write('nvra-int16.rpm', await respecimen(el9, { main: (entries) => [...entries, { tag: 1196, type: RPM_TYPE.INT16, value: [1] }] }));
    const k = spawnSync('rpm', ['-K', '--nosignature', path], { encoding: 'utf8' });
    expect(k.stderr).toMatch(/tag\[\d+\]: BAD, tag 1196 type 3/);
    await expect(openRpm(path)).rejects.toThrow(/index entry \d+ \(tag 1196, type 3, .*\): rpmtag\.h declares STRING$/);
  });

  it('a PAYLOADSIZE or SIZE that does not match (createrepo_c Rimmer-1.0.2-2): rpm -K says digests OK; dudkit warns, the digests stay OK', async () => {
    const path = write('payload-size.rpm', await respecimen(el9, {
      sig: (entries) => entries.map((e) => (e.tag === SIGTAG.PAYLOADSIZE || e.tag === SIGTAG.SIZE ? { ...e, value: [(e.value as number[])[0]! + 124] } : e)),
    }));
    expect(execFileSync('rpm', ['-K', '--nosignature', path], { encoding: 'utf8' })).toBe(`${path}: digests OK\n`);
    const checks = await verifyDigests(await openRpm(path), { payload: true });
    expect(checks.filter((c) => !c.ok).map((c) => [c.name, c.advisory])).toEqual([['Header and payload size', true], ['Payload size', true]]);
    expect(digestsOk(checks)).toBe(true);
    const report = await inspectJson(path);
    expect(report.findings.map((f) => [f.severity, f.code])).toEqual([['warning', 'RPM_SIZE_TAG'], ['warning', 'RPM_SIZE_TAG']]);
    expect(report.text).toMatch(/digests +OK/);
  });

  it('no PAYLOADCOMPRESSOR tag: rpm -qp --qf %{PAYLOADCOMPRESSOR} says (none), inspect shows it absent, the gzip payload still reads', async () => {
    const path = write('no-compressor.rpm', await respecimen(el8, { main: (entries) => entries.filter((e) => e.tag !== TAG.PAYLOADCOMPRESSOR) }));
    expect(rpmq(path, '--qf', '%{PAYLOADCOMPRESSOR}')).toBe('(none)');
    expect(execFileSync('rpm', ['-K', '--nosignature', path], { encoding: 'utf8' })).toBe(`${path}: digests OK\n`);
    const pkg = await openRpm(path);
    expect(pkg.payloadCompressorTag).toBeUndefined();
    const report = await inspectJson(path);
    const facts = report.json as unknown as Facts;
    expect(facts.payload.compressor).toBeNull();
    expect(facts.digests.ok).toBe(true);
    expect(report.text).toMatch(/payload +cpio, no compressor tag \(rpm: \(none\), read as gzip\)/);
    expect([...(await drain(pkg)).keys()]).toEqual(lines(execSync(`rpm2cpio '${path}' | cpio -t --quiet`, { encoding: 'utf8' })));
  });

  it('a corrupted payload (rpm hello-2.0-1.x86_64-corrupted.rpm: none at all; or cut short): rpm -K says NOT OK, so does inspect, with no error', async () => {
    const bytes = readFileSync(el9);
    const pkg = await openRpm(el9);
    for (const [name, payload] of [['no-payload.rpm', Buffer.alloc(0)], ['half-payload.rpm', bytes.subarray(pkg.payloadOffset, pkg.payloadOffset + 200)]] as const) {
      const path = write(name, Buffer.concat([bytes.subarray(0, pkg.payloadOffset), payload]));
      expect(spawnSync('rpm', ['-K', '--nosignature', path], { encoding: 'utf8' }).stdout.trim(), name).toMatch(/NOT OK$/);
      const report = await inspectJson(path);
      const facts = report.json as unknown as Facts;
      expect(facts.digests.ok, name).toBe(false);
      expect(facts.digests.failed.map((c) => c.name), name).toContain('Payload SHA256 digest');
      expect(report.text, name).toMatch(/digests +NOT OK: .*payload does not unpack/);
      // errors for the digests, a warning for the SIZE tag the cut file no longer matches
      expect(new Set(report.findings.map((f) => `${f.severity} ${f.code}`)), name).toEqual(new Set(['error RPM_DIGEST', 'warning RPM_SIZE_TAG']));
    }
  });
});

describe('dudkit inspect X.rpm', () => {
  it('agrees with rpm -qp --provides and -l on kernels, modules and compressor for every fixture', async () => {
    const { inspect: inspectPath } = await import('../src/readers/index.js');
    const { createContext } = await import('../src/context.js');
    for (const name of rpms) {
      const path = join(dir, name);
      const report = await inspectPath(path, { ctx: createContext({ epoch: 0 }) });
      expect(report.kind).toBe('rpm');
      const facts = report.json as { kernelModules: string[]; modules: { path: string }[]; payload: { compressor: string }; type: string; notes: string[] };
      const provided = lines(rpmq(path, '--provides')).filter((l) => l.startsWith('kernel-modules '));
      expect(facts.kernelModules.map((k) => `kernel-modules ${k}`)).toEqual(provided);
      const kernel = (report.json as { kernel: { requires: string[] } }).kernel;
      expect(kernel.requires.map((k) => `kernel ${k}`)).toEqual(lines(rpmq(path, '--requires')).filter((l) => l.startsWith('kernel ')));
      expect(facts.modules.map((m) => m.path)).toEqual(lines(rpmq(path, '-l')).filter((l) => /\.ko$/.test(l)));
      expect(facts.payload.compressor).toBe(rpmq(path, '--qf', '%{PAYLOADCOMPRESSOR}'));
      expect(facts.type).toBe(name.endsWith('.src.rpm') ? 'source' : 'binary');
      expect(report.text).toContain(name.replace(/^\w+\//, ''));
      const signed = rpmq(path, '--qf', '%{RSAHEADER:pgpsig}');
      expect((facts as unknown as { signatures: { keyId: string }[] }).signatures.map((s) => s.keyId)).toEqual(signed === '(none)' ? [] : [signed.split('Key ID ')[1]]);
      if (['zstd', 'bzip2'].includes(facts.payload.compressor) && facts.type === 'binary') expect(facts.notes.join()).toMatch(/only read gzip and xz/);
    }
  });

  it('turns a truncated package into a one-line error naming it', async () => {
    const { inspect: inspectPath } = await import('../src/readers/index.js');
    const { createContext } = await import('../src/context.js');
    const path = join(tmp, 'short.rpm');
    writeFileSync(path, readFileSync(join(dir, rpms[0]!)).subarray(0, 700));
    const err = await inspectPath(path, { ctx: createContext({ epoch: 0 }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(new RegExp(`^${path}: truncated in the signature header: needs \\d+ bytes, the file has 700$`));
    const flipped = join(tmp, 'flipped.rpm');
    writeFileSync(flipped, Buffer.concat([Buffer.from([0]), readFileSync(join(dir, rpms[0]!)).subarray(1)]));
    await expect(inspectPath(flipped, { ctx: createContext({ epoch: 0 }) })).rejects.toThrow(`${flipped}: not an RPM: bad lead magic (expected edabeedb)`);
  });
});

describe('legacy OLDFILENAMES packages', () => {
  it('rpm -qlp and rpm -Kv accept a package whose header was re-encoded with OLDFILENAMES; the reader lists the same files', async () => {
    const { createHash } = await import('node:crypto');
    const { encodeHeader, RPM_TYPE, SIGTAG, TAG, signaturePadding } = await import('../src/formats/rpm/index.js');
    const src = join(dir, rpms.find((f) => f.startsWith('kmod-') && f.includes('el8_9'))!);
    const pkg = await openRpm(src);
    const file = readFileSync(src);
    const entries = pkg.header.entries().filter((e) => ![TAG.BASENAMES, TAG.DIRNAMES, TAG.DIRINDEXES].includes(e.tag as never));
    entries.push({ tag: TAG.OLDFILENAMES, type: RPM_TYPE.STRING_ARRAY, value: pkg.files.map((f) => f.path) });
    const main = encodeHeader(entries, 63);
    const payload = file.subarray(pkg.payloadOffset);
    const hash = (algo: string, ...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash(algo));
    const sig = pkg.signature.entries().map((e) => {
      if (e.tag === SIGTAG.SHA1) return { ...e, value: hash('sha1', main).digest('hex') };
      if (e.tag === SIGTAG.SHA256) return { ...e, value: hash('sha256', main).digest('hex') };
      if (e.tag === SIGTAG.SIZE) return { ...e, value: [main.length + payload.length] };
      if (e.tag === SIGTAG.MD5) return { ...e, value: new Uint8Array(hash('md5', main, payload).digest()) };
      return e;
    });
    const sigBytes = encodeHeader(sig, 62);
    const out = join(tmp, 'oldfilenames.rpm');
    writeFileSync(out, Buffer.concat([file.subarray(0, 96), sigBytes, Buffer.alloc(signaturePadding(sigBytes.length)), main, payload]));

    expect(lines(rpmq(out, '-l'))).toEqual(pkg.files.map((f) => f.path));
    const rpmK = execFileSync('rpm', ['-Kv', '--nosignature', out], { encoding: 'utf8' });
    expect(lines(rpmK).slice(1).every((l) => l.endsWith(': OK'))).toBe(true);
    const legacy = await openRpm(out);
    expect(legacy.header.has(TAG.BASENAMES)).toBe(false);
    expect(legacy.files).toEqual(pkg.files);
    expect([...(await drain(legacy)).keys()]).toEqual([...(await drain(pkg)).keys()]);
    expect((await verifyDigests(legacy, { payload: true })).filter((c) => !c.ok)).toEqual([]);
  });
});

describe('signed packages', () => {
  it('rpm -K says "digests signatures OK" after importing the key; the reader keeps the RSA signature over the header bytes', async () => {
    const path = join(dir, rpms.find((f) => f.startsWith('signed/'))!);
    const dbpath = join(tmp, 'rpmdb');
    mkdirSync(dbpath);
    execFileSync('rpmkeys', ['--dbpath', dbpath, '--import', join(dir, 'signing', 'public.asc')]);
    expect(execFileSync('rpmkeys', ['--dbpath', dbpath, '-K', path], { encoding: 'utf8' })).toBe(`${path}: digests signatures OK\n`);
    const pkg = await openRpm(path);
    const [facts] = signatures(pkg.signature);
    // rpm prints e.g. "RSA/SHA256, Tue Nov 14 22:13:20 2023, Key ID d1f5eda1be87c23d"
    const [algo, date, key] = rpmq(path, '--qf', '%{RSAHEADER:pgpsig}').split(', ');
    expect(`${facts!.pubkeyAlgo}/${facts!.hashAlgo}`).toBe(algo);
    expect(`Key ID ${facts!.keyId}`).toBe(key);
    expect(facts!.created).toBe(Date.parse(`${date} UTC`) / 1000);
    expect(facts!.covers).toBe('header');
    const sig = pkg.signature.bin(SIGTAG.RSA)!;
    expect(sig[0]! & 0x80).toBe(0x80); // an OpenPGP packet
    const gpg = join(tmp, 'gnupg');
    mkdirSync(gpg, { mode: 0o700 });
    execFileSync('gpg', ['--homedir', gpg, '--batch', '--quiet', '--import', join(dir, 'signing', 'public.asc')], { stdio: 'ignore' });
    writeFileSync(join(tmp, 'header.bin'), pkg.header.bytes);
    writeFileSync(join(tmp, 'header.sig'), sig);
    // gpg verifies the stored signature over exactly the header bytes the reader returns
    execFileSync('gpg', ['--homedir', gpg, '--batch', '--verify', join(tmp, 'header.sig'), join(tmp, 'header.bin')], { stdio: 'ignore' });
  });
});

describe("rpm's stripped cpio (large-file packages)", () => {
  it('rpm2archive and the reader agree on a package re-encoded with LONGFILESIZES and a 07070X payload', async () => {
    const { createHash } = await import('node:crypto');
    const { gzipSync } = await import('node:zlib');
    const { encodeHeader, RPM_TYPE, SENSE, SIGTAG, TAG, signaturePadding } = await import('../src/formats/rpm/index.js');
    const src = join(dir, rpms.find((f) => f.startsWith('kmod-') && f.includes('el8_9'))!);
    const pkg = await openRpm(src);
    const file = readFileSync(src);
    const contents = await drain(pkg);

    // payload: 07070X + file index, padded to 4; data padded to 4; a newc trailer
    const parts: Buffer[] = [];
    const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
    pkg.files.forEach((f, i) => {
      if (f.ghost) return;
      parts.push(Buffer.from(`07070X${i.toString(16).padStart(8, '0')}\0\0`));
      const data = f.type === 'symlink' ? Buffer.from(f.linkTo) : f.type === 'file' ? contents.get(`.${f.path}`)! : Buffer.alloc(0);
      parts.push(data, pad(data.length));
    });
    parts.push(Buffer.from(`070701${'0'.repeat(32)}00000001${'0'.repeat(48)}0000000b00000000TRAILER!!!\0`), Buffer.alloc(0));
    const cpio = Buffer.concat(parts);
    const cpioPadded = Buffer.concat([cpio, pad(cpio.length)]);
    const payload = gzipSync(cpioPadded, { level: 9 });
    const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

    const reqNames = pkg.header.strings(TAG.REQUIRENAME);
    const entries = pkg.header.entries().flatMap((e) => {
      switch (e.tag) {
        case TAG.FILESIZES:
          return [{ tag: TAG.LONGFILESIZES, type: RPM_TYPE.INT64, value: (e.value as number[]).map(BigInt) }];
        case TAG.REQUIRENAME:
          return [{ ...e, value: [...reqNames, 'rpmlib(LargeFiles)'] }];
        case TAG.REQUIREFLAGS:
          return [{ ...e, value: [...(e.value as number[]), SENSE.RPMLIB | SENSE.LESS | SENSE.EQUAL] }];
        case TAG.REQUIREVERSION:
          return [{ ...e, value: [...(e.value as string[]), '4.12.0-1'] }];
        case TAG.PAYLOADDIGEST:
          return [{ ...e, value: [sha256(payload)] }];
        case TAG.PAYLOADDIGESTALT:
          return [{ ...e, value: [sha256(cpioPadded)] }];
        default:
          return [e];
      }
    });
    const main = encodeHeader(entries, 63);
    const sig = pkg.signature.entries().map((e) => {
      if (e.tag === SIGTAG.SHA1) return { ...e, value: createHash('sha1').update(main).digest('hex') };
      if (e.tag === SIGTAG.SHA256) return { ...e, value: sha256(main) };
      if (e.tag === SIGTAG.SIZE) return { ...e, value: [main.length + payload.length] };
      if (e.tag === SIGTAG.MD5) return { ...e, value: new Uint8Array(createHash('md5').update(main).update(payload).digest()) };
      if (e.tag === SIGTAG.PAYLOADSIZE) return { ...e, value: [cpioPadded.length] };
      return e;
    });
    const sigBytes = encodeHeader(sig, 62);
    const out = join(tmp, 'stripped.rpm');
    writeFileSync(out, Buffer.concat([file.subarray(0, 96), sigBytes, Buffer.alloc(signaturePadding(sigBytes.length)), main, payload]));

    const rpmK = execFileSync('rpm', ['-Kv', '--nosignature', out], { encoding: 'utf8' });
    expect(lines(rpmK).slice(1).every((l) => l.endsWith(': OK'))).toBe(true);
    // rpm2archive reads the payload through rpm's own archive reader and writes a tar
    execFileSync('rpm2archive', ['-n', out]);
    const tarDir = join(tmp, 'stripped-tar');
    mkdirSync(tarDir);
    execFileSync('tar', ['-xf', `${out}.tar`, '-C', tarDir]);
    const tarNames = lines(execFileSync('tar', ['-tf', `${out}.tar`], { encoding: 'utf8' })).map((n) => n.replace(/\/$/, ''));

    const stripped = await openRpm(out);
    const members = await drain(stripped);
    expect([...members.keys()]).toEqual(tarNames);
    for (const f of stripped.files.filter((x) => x.type === 'file' && !x.ghost)) {
      expect(members.get(`.${f.path}`), f.path).toEqual(readFileSync(join(tarDir, f.path)));
    }
    const checks = await verifyDigests(stripped, { payload: true });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.filter((c) => c.name.startsWith('File ')).length).toBe(stripped.files.filter((x) => x.type === 'file').length);
  });
});

describe('OpenPGP signature packets', () => {
  it('refuses truncated, foreign and unknown-version packets with a FormatError', async () => {
    const { decodeSignaturePacket } = await import('../src/formats/rpm/index.js');
    const { FormatError } = await import('../src/errors.js');
    const pkg = await openRpm(join(dir, rpms.find((f) => f.startsWith('signed/'))!));
    const packet = pkg.signature.bin(SIGTAG.RSA)!;
    expect(decodeSignaturePacket(packet, SIGTAG.RSA).version).toBe(4);
    for (const bad of [packet.subarray(0, 1), packet.subarray(0, 10), packet.subarray(0, packet.length - 1), Uint8Array.of(0x99, 0, 0), Uint8Array.of(0x88, 3, 9, 0, 0)]) {
      expect(() => decodeSignaturePacket(bad, SIGTAG.RSA)).toThrow(FormatError);
    }
  });
});

describe('packages stored inside another file', () => {
  it('reads, streams and verifies an RPM at an offset of a larger file (as on an ISO image)', async () => {
    const name = rpms.find((f) => f.startsWith('kmod-') && f.includes('el9_4'))!;
    const bytes = readFileSync(join(dir, name));
    const container = join(tmp, 'container.bin');
    writeFileSync(container, Buffer.concat([Buffer.alloc(2048, 0x11), bytes, Buffer.alloc(999, 0x22)]));
    const inner = await openRpm(container, { offset: 2048, size: bytes.length });
    const alone = await openRpm(join(dir, name));
    expect(inner.nevra).toBe(alone.nevra);
    expect(inner.headerStart).toBe(alone.headerStart + 2048);
    expect(inner.payloadSize).toBe(alone.payloadSize);
    expect(await drain(inner)).toEqual(await drain(alone));
    expect((await verifyDigests(inner, { payload: true })).filter((c) => !c.ok)).toEqual([]);
    await expect(openRpm(container, { offset: 2048, size: 500 })).rejects.toThrow(/truncated in the signature header/);
  });
});
