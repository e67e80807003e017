/**
 * `dudkit inspect X.rpm`: what a driver-media author needs to know about a package: NEVRA, source
 * or binary, payload compressor, which kernels it is for (its `kernel-modules` Provides and the
 * release folders of its modules), modules, firmware, dependencies, scriptlets and files, plus
 * the reasons a Red Hat installer would ignore or fail to read it.
 */
import { formatDependency, type RpmDependency } from '../formats/rpm/read-meta.js';
import { openRpm, type RpmPackage } from '../formats/rpm/read.js';
import { type DigestCheck, digestsOk, verifyDigests } from '../formats/rpm/read-verify.js';
import { signatures } from '../formats/rpm/read-signature.js';
import { Findings } from '../findings.js';
import { LEAD } from '../formats/rpm/tags.js';
import type { Reader } from './types.js';

const MODULE = /^\/(?:usr\/)?lib\/modules\/([^/]+)\/(.+\.ko(?:\.(?:xz|gz|zst|bz2))?)$/;
/** Payload compressors the Red Hat installer's extractor can open (redhat-dud.md §3.3). */
const DUD_COMPRESSORS = new Set(['gzip', 'xz']);

function versioned(deps: RpmDependency[], name: string): string[] {
  return deps.filter((d) => d.name === name && d.op && d.version).map((d) => `${d.op} ${d.version}`);
}

export type RpmFacts = ReturnType<typeof describeRpmFacts>;

/** rpm -K's verdict line, and the checks behind it that failed (rpm's own names). */
function digestFacts(checks: readonly DigestCheck[]) {
  return {
    ok: digestsOk(checks),
    failed: checks.filter((c) => !c.ok && !c.advisory).map((c) => ({ name: c.name, expected: c.expected, actual: c.actual })),
    /** Size tags rpm does not check: a mismatch is only worth a warning. */
    unchecked: checks.filter((c) => !c.ok && c.advisory).map((c) => ({ name: c.name, expected: c.expected, actual: c.actual })),
  };
}

export function describeRpmFacts(pkg: RpmPackage, checks: readonly DigestCheck[]) {
  const modules = pkg.files.flatMap((f) => {
    const m = MODULE.exec(f.path);
    return m ? [{ path: f.path, kernelRelease: m[1]!, size: f.size }] : [];
  });
  const kernelModules = versioned(pkg.provides, 'kernel-modules');
  const installerEnhancement = versioned(pkg.provides, 'installer-enhancement');
  const notes: string[] = [];
  if (!pkg.isSource && kernelModules.length === 0 && installerEnhancement.length === 0 && modules.length > 0) {
    notes.push('no versioned kernel-modules Provides: a Red Hat driver disk installer ignores this package');
  }
  if (!pkg.isSource && !DUD_COMPRESSORS.has(pkg.payloadCompressor)) {
    notes.push(`${pkg.payloadCompressor} payload: Red Hat driver disk installers can only read gzip and xz payloads`);
  }
  if (modules.some((m) => !m.path.endsWith('.ko'))) notes.push('compressed modules: RHEL installers before 9.6 load only plain .ko files');
  return {
    path: pkg.path,
    nevra: pkg.nevra,
    name: pkg.name,
    epoch: pkg.epoch ?? null,
    version: pkg.version,
    release: pkg.release,
    arch: pkg.arch,
    type: pkg.isSource ? 'source' : 'binary',
    summary: pkg.summary,
    license: pkg.license,
    vendor: pkg.vendor ?? null,
    url: pkg.url ?? null,
    buildtime: pkg.buildtime ?? null,
    sourcerpm: pkg.sourcerpm ?? null,
    signatures: signatures(pkg.signature).map((s) => ({
      algorithm: `${s.pubkeyAlgo}/${s.hashAlgo}`,
      keyId: s.keyId,
      created: s.created,
      covers: s.covers,
    })),
    /** `compressor` as the tag says (null when absent: rpm reads the payload as gzip then). */
    payload: { format: pkg.payloadFormat, compressor: pkg.payloadCompressorTag ?? null, flags: pkg.payloadFlags ?? null, size: pkg.payloadSize },
    digests: digestFacts(checks),
    kernelModules,
    installerEnhancement,
    /** `kernel` Provides (a kernel package) and Requires (a kmod's kernel dependency). */
    kernel: { provides: versioned(pkg.provides, 'kernel'), requires: versioned(pkg.requires, 'kernel') },
    kernelReleases: [...new Set(modules.map((m) => m.kernelRelease))].sort(),
    modules,
    firmware: pkg.files.filter((f) => f.path.startsWith('/lib/firmware/') && f.type !== 'dir').map((f) => f.path),
    provides: pkg.provides.map(formatDependency),
    requires: pkg.requires.map(formatDependency),
    conflicts: pkg.conflicts.map(formatDependency),
    obsoletes: pkg.obsoletes.map(formatDependency),
    recommends: pkg.recommends.map(formatDependency),
    scripts: pkg.scripts,
    files: pkg.files.map((f) => ({
      path: f.path,
      type: f.type,
      mode: f.mode.toString(8).padStart(7, '0'),
      size: f.size,
      user: f.user,
      group: f.group,
      ...(f.linkTo ? { linkTo: f.linkTo } : {}),
      ...(f.digest ? { digest: f.digest } : {}),
      ...(f.config ? { config: true } : {}),
      ...(f.ghost ? { ghost: true } : {}),
    })),
    notes,
  };
}

function lineCount(body: string): string {
  const n = body.split('\n').length;
  return n === 1 ? '1 line' : `${n} lines`;
}

function describeRpm(f: RpmFacts): string {
  const rows: [string, string[]][] = [
    ['type', [f.type]],
    ['summary', [f.summary]],
    ['license', [f.license]],
    ['signed', f.signatures.length ? f.signatures.map((s) => `${s.algorithm}, key ID ${s.keyId}, ${new Date(s.created * 1000).toISOString()}`) : ['no']],
    ['payload', [`${f.payload.format}, ${f.payload.compressor ?? 'no compressor tag (rpm: (none), read as gzip)'}${f.payload.flags ? ` (level ${f.payload.flags})` : ''}, ${f.payload.size} bytes`]],
    ['digests', [f.digests.ok ? 'OK' : `NOT OK: ${f.digests.failed.map((c) => (c.name === 'Payload' ? 'payload does not unpack' : c.name)).join(', ')}`]],
    ['kernel-modules', f.kernelModules],
    ['installer-enh.', f.installerEnhancement],
    ['kernel', [...f.kernel.provides.map((v) => `provides ${v}`), ...f.kernel.requires.map((v) => `requires ${v}`)]],
    ['kernels', f.kernelReleases],
    ['modules', f.modules.map((m) => m.path)],
    ['firmware', f.firmware],
    ['provides', f.provides],
    ['requires', f.requires],
    ['conflicts', f.conflicts],
    ['obsoletes', f.obsoletes],
    ['recommends', f.recommends],
    ['scripts', f.scripts.map((s) => `%${s.kind === 'postin' ? 'post' : s.kind === 'prein' ? 'pre' : s.kind} (${s.interpreter.join(' ')})${s.body ? `: ${lineCount(s.body)}` : ''}`)],
    ['files', f.files.map((x) => `${x.mode} ${x.user}/${x.group} ${String(x.size).padStart(9)} ${x.path}${x.linkTo ? ` -> ${x.linkTo}` : ''}${x.ghost ? ' (ghost)' : ''}`)],
    ['notes', f.notes],
  ];
  const lines = [`RPM ${f.nevra}: ${f.path}`];
  for (const [label, values] of rows) {
    values.forEach((v, i) => lines.push(`  ${(i === 0 ? label : '').padEnd(15)} ${v}`));
  }
  return lines.join('\n');
}

export const rpmReader: Reader<RpmFacts> = {
  kind: 'rpm',
  // a file named .rpm is claimed even with a bad lead, so the error says what is wrong with it
  bid({ path, bytes, isDirectory }) {
    if (isDirectory) return 0;
    if (bytes.length >= 4 && LEAD.MAGIC.every((b, i) => bytes[i] === b)) return 100;
    return path.endsWith('.rpm') ? 1 : 0;
  },
  async inspect(path) {
    const pkg = await openRpm(path);
    // what rpm -K checks, the payload read once
    const checks = await verifyDigests(pkg, { payload: true });
    const f = new Findings();
    for (const c of checks) {
      if (c.ok) continue;
      const detail = c.name === 'Payload' ? `the payload does not unpack: ${c.actual}` : `${c.name}: expected ${c.expected}, got ${c.actual}`;
      if (c.advisory) f.warning('RPM_SIZE_TAG', '', `${detail} (rpm does not check it)`);
      else f.error('RPM_DIGEST', '', `${detail} (rpm -K: digests NOT OK)`);
    }
    return { kind: 'rpm', path, facts: describeRpmFacts(pkg, checks), findings: f.list };
  },
  render: { inspect: (r) => describeRpm(r.facts) },
};
