import { z } from 'zod';
import { MAX_LENGTH, tooLong } from './limits.js';

/** A non-empty text; that it is one line is checked on the document (`scalars.ts`). */
const line = z.string().trim().min(1);

const kernelRelease = z.string().max(MAX_LENGTH.kernel, tooLong(MAX_LENGTH.kernel)).regex(/^[A-Za-z0-9._+~^-]+$/, 'must look like `uname -r`, e.g. 5.14.0-362.8.1.el9_3.x86_64');

const sourceSchema = z.union([
  z.strictObject({
    ko: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Overrides the kernel release read from vermagic (kABI-compatible modules). */
    kernel: kernelRelease.optional(),
  }),
  z.strictObject({ rpm: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]) }),
  z.strictObject({ dkms: z.string().min(1), kernel: kernelRelease.optional() }),
]);

export const firmwareSchema = z.strictObject({
  file: z.string().min(1),
  /** Path under lib/firmware/. */
  dest: z
    .string()
    .min(1)
    .refine((s) => !s.startsWith('/') && !s.split('/').some((p) => p === '' || p === '.' || p === '..'), 'must be a relative path without `..`'),
});

/** A kABI reference: `Module.symvers` or stablelist, for every kernel or for one (`uname -r` or release name). */
const kabiFile = z.union([z.string().min(1), z.strictObject({ file: z.string().min(1), kernel: kernelRelease.optional() })]);

export const manifestSchema = z.strictObject({
  name: z.string().max(MAX_LENGTH.name, tooLong(MAX_LENGTH.name)).regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be a package-name-like word: letters, digits, . _ + -'),
  version: z.union([z.string(), z.number()]).transform(String).pipe(z.string().max(MAX_LENGTH.version, tooLong(MAX_LENGTH.version)).regex(/^[A-Za-z0-9._+~^]+$/, 'must be an RPM version (no `-`)')),
  release: z.union([z.string(), z.number()]).default('1').transform(String).pipe(z.string().max(MAX_LENGTH.release, tooLong(MAX_LENGTH.release)).regex(/^[A-Za-z0-9._+~^]+$/, 'must be an RPM release (no `-`)')),
  vendor: z.string().max(MAX_LENGTH.vendor, tooLong(MAX_LENGTH.vendor)).regex(/^[A-Za-z0-9._-]+$/, 'must match [A-Za-z0-9._-]+'),
  vendorName: line.optional(),
  summary: line,
  description: z.string().min(1).optional(),
  license: line.default('GPL-2.0-only'),
  url: line.optional(),
  /** Needed by the Linux targets; ESXi VIBs take their files from their own options. */
  sources: z.array(sourceSchema).default([]),
  firmware: z.array(firmwareSchema).default([]),
  /**
   * Sign every module for Secure Boot as sign-file does: an RSA key (PEM; encrypted keys are
   * unlocked from $passphraseEnv) and its certificate (PEM or DER; default: the key file, as the
   * kernel's signing_key.pem holds both).
   */
  signing: z
    .strictObject({ key: z.string().min(1), cert: z.string().min(1).optional(), passphraseEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('DUDKIT_KEY_PASSPHRASE') })
    .optional(),
  /** Modules are checked against these before anything is written (rules/kabi.ts). */
  kabi: z.union([kabiFile, z.array(kabiFile).min(1)]).optional(),
  /** Each item is `{ <target kind>: { …options } }`; options are checked by the target's layout. */
  targets: z.array(z.record(z.string(), z.unknown())).min(1, 'needs at least one target'),
});

export type Manifest = z.output<typeof manifestSchema>;

/**
 * What a defaults file may hold, every key optional: what is the same for every driver of a
 * vendor. A driver's own facts (name, version, summary, sources, targets…) belong to its manifest.
 */
export const defaultsSchema = manifestSchema.pick({ vendor: true, vendorName: true, license: true, url: true, signing: true, kabi: true }).partial();
