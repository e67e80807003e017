/**
 * RPM v4 constants: header data types, tag numbers with their exact `rpmtag.h` types (newer rpm
 * rejects a known main-header tag stored with a different numeric type), lead fields,
 * dependency sense flags and file flags.
 */

export const RPM_TYPE = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;
export type RpmType = (typeof RPM_TYPE)[keyof typeof RPM_TYPE];

export const TYPE_NAMES: readonly string[] = ['NULL', 'CHAR', 'INT8', 'INT16', 'INT32', 'INT64', 'STRING', 'BIN', 'STRING_ARRAY', 'I18NSTRING'];

/** Alignment of each type's data inside the store. */
export const TYPE_ALIGN: readonly number[] = [1, 1, 1, 2, 4, 8, 1, 1, 1, 1];
/** Bytes per item for fixed-size types; 0 for the string types. */
export const TYPE_SIZE: readonly number[] = [0, 1, 1, 2, 4, 8, 0, 1, 0, 0];

export function isStringType(t: number): boolean {
  return t === RPM_TYPE.STRING || t === RPM_TYPE.STRING_ARRAY || t === RPM_TYPE.I18NSTRING;
}

const { CHAR: C, INT16: H, INT32: I, INT64: L, STRING: S, BIN: X, STRING_ARRAY: A, I18NSTRING: T } = RPM_TYPE;

/** Region tags: 61 legacy image, 62 signature header, 63 main header. */
export const REGION = { IMAGE: 61, SIGNATURES: 62, IMMUTABLE: 63 } as const;

/** Main-header tags: [number, type] as declared in rpmtag.h. */
const MAIN_TAGS = {
  HEADERI18NTABLE: [100, A],
  NAME: [1000, S],
  VERSION: [1001, S],
  RELEASE: [1002, S],
  EPOCH: [1003, I],
  SUMMARY: [1004, T],
  DESCRIPTION: [1005, T],
  BUILDTIME: [1006, I],
  BUILDHOST: [1007, S],
  INSTALLTIME: [1008, I],
  SIZE: [1009, I],
  DISTRIBUTION: [1010, S],
  VENDOR: [1011, S],
  LICENSE: [1014, S],
  PACKAGER: [1015, S],
  GROUP: [1016, T],
  SOURCE: [1018, A],
  PATCH: [1019, A],
  URL: [1020, S],
  OS: [1021, S],
  ARCH: [1022, S],
  PREIN: [1023, S],
  POSTIN: [1024, S],
  PREUN: [1025, S],
  POSTUN: [1026, S],
  OLDFILENAMES: [1027, A],
  FILESIZES: [1028, I],
  FILESTATES: [1029, C],
  FILEMODES: [1030, H],
  FILERDEVS: [1033, H],
  FILEMTIMES: [1034, I],
  FILEDIGESTS: [1035, A],
  FILELINKTOS: [1036, A],
  FILEFLAGS: [1037, I],
  FILEUSERNAME: [1039, A],
  FILEGROUPNAME: [1040, A],
  SOURCERPM: [1044, S],
  FILEVERIFYFLAGS: [1045, I],
  ARCHIVESIZE: [1046, I],
  PROVIDENAME: [1047, A],
  REQUIREFLAGS: [1048, I],
  REQUIRENAME: [1049, A],
  REQUIREVERSION: [1050, A],
  NOSOURCE: [1051, I],
  NOPATCH: [1052, I],
  CONFLICTFLAGS: [1053, I],
  CONFLICTNAME: [1054, A],
  CONFLICTVERSION: [1055, A],
  EXCLUDEARCH: [1059, A],
  EXCLUDEOS: [1060, A],
  EXCLUSIVEARCH: [1061, A],
  EXCLUSIVEOS: [1062, A],
  RPMVERSION: [1064, S],
  TRIGGERSCRIPTS: [1065, A],
  TRIGGERNAME: [1066, A],
  TRIGGERVERSION: [1067, A],
  TRIGGERFLAGS: [1068, I],
  TRIGGERINDEX: [1069, I],
  VERIFYSCRIPT: [1079, S],
  CHANGELOGTIME: [1080, I],
  CHANGELOGNAME: [1081, A],
  CHANGELOGTEXT: [1082, A],
  PREINPROG: [1085, A],
  POSTINPROG: [1086, A],
  PREUNPROG: [1087, A],
  POSTUNPROG: [1088, A],
  BUILDARCHS: [1089, A],
  OBSOLETENAME: [1090, A],
  VERIFYSCRIPTPROG: [1091, A],
  TRIGGERSCRIPTPROG: [1092, A],
  COOKIE: [1094, S],
  FILEDEVICES: [1095, I],
  FILEINODES: [1096, I],
  FILELANGS: [1097, A],
  PREFIXES: [1098, A],
  SOURCEPACKAGE: [1106, I],
  PROVIDEFLAGS: [1112, I],
  PROVIDEVERSION: [1113, A],
  OBSOLETEFLAGS: [1114, I],
  OBSOLETEVERSION: [1115, A],
  DIRINDEXES: [1116, I],
  BASENAMES: [1117, A],
  DIRNAMES: [1118, A],
  OPTFLAGS: [1122, S],
  DISTURL: [1123, S],
  PAYLOADFORMAT: [1124, S],
  PAYLOADCOMPRESSOR: [1125, S],
  PAYLOADFLAGS: [1126, S],
  PLATFORM: [1132, S],
  FILECOLORS: [1140, I],
  FILECLASS: [1141, I],
  CLASSDICT: [1142, A],
  FILEDEPENDSX: [1143, I],
  FILEDEPENDSN: [1144, I],
  DEPENDSDICT: [1145, I],
  SOURCEPKGID: [1146, X],
  PRETRANS: [1151, S],
  POSTTRANS: [1152, S],
  PRETRANSPROG: [1153, A],
  POSTTRANSPROG: [1154, A],
  DISTTAG: [1155, S],
  LONGFILESIZES: [5008, L],
  LONGSIZE: [5009, L],
  FILECAPS: [5010, A],
  FILEDIGESTALGO: [5011, I],
  BUGURL: [5012, S],
  PREINFLAGS: [5020, I],
  POSTINFLAGS: [5021, I],
  PREUNFLAGS: [5022, I],
  POSTUNFLAGS: [5023, I],
  PRETRANSFLAGS: [5024, I],
  POSTTRANSFLAGS: [5025, I],
  VCS: [5034, S],
  RECOMMENDNAME: [5046, A],
  RECOMMENDVERSION: [5047, A],
  RECOMMENDFLAGS: [5048, I],
  SUGGESTNAME: [5049, A],
  SUGGESTVERSION: [5050, A],
  SUGGESTFLAGS: [5051, I],
  SUPPLEMENTNAME: [5052, A],
  SUPPLEMENTVERSION: [5053, A],
  SUPPLEMENTFLAGS: [5054, I],
  ENHANCENAME: [5055, A],
  ENHANCEVERSION: [5056, A],
  ENHANCEFLAGS: [5057, I],
  ENCODING: [5062, S],
  FILESIGNATURES: [5090, A],
  FILESIGNATURELENGTH: [5091, I],
  PAYLOADDIGEST: [5092, A],
  PAYLOADDIGESTALGO: [5093, I],
  MODULARITYLABEL: [5096, S],
  PAYLOADDIGESTALT: [5097, A],
} as const satisfies Record<string, readonly [number, RpmType]>;

/** Signature-header tags (their numbers overlap main-header tags with other meanings). */
const SIG_TAGS = {
  DSA: [267, X],
  RSA: [268, X],
  SHA1: [269, S],
  LONGSIZE: [270, L],
  LONGARCHIVESIZE: [271, L],
  SHA256: [273, S],
  FILESIGNATURES: [274, A],
  FILESIGNATURELENGTH: [275, I],
  SIZE: [1000, I],
  PGP: [1002, X],
  MD5: [1004, X],
  GPG: [1005, X],
  PAYLOADSIZE: [1007, I],
  RESERVEDSPACE: [1008, X],
} as const satisfies Record<string, readonly [number, RpmType]>;

type Numbers<T extends Record<string, readonly [number, RpmType]>> = { readonly [K in keyof T]: T[K][0] };

function numbersOf<T extends Record<string, readonly [number, RpmType]>>(table: T): Numbers<T> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v[0]])) as Numbers<T>;
}

function typesOf(table: Record<string, readonly [number, RpmType]>): ReadonlyMap<number, RpmType> {
  return new Map(Object.values(table).map(([tag, type]) => [tag, type]));
}

export const TAG = numbersOf(MAIN_TAGS);
export const SIGTAG = numbersOf(SIG_TAGS);
/** rpmtag.h type of each known main-header tag. */
export const TAG_TYPE = typesOf(MAIN_TAGS);

const TAG_NAMES = new Map(Object.entries(MAIN_TAGS).map(([k, v]) => [v[0] as number, k]));
const SIGTAG_NAMES = new Map(Object.entries(SIG_TAGS).map(([k, v]) => [v[0] as number, k]));

/** A tag's name for messages ("NAME (1000)"), or just its number when unknown. */
export function tagLabel(tag: number, signature = false): string {
  const name = (signature ? SIGTAG_NAMES : TAG_NAMES).get(tag);
  return name ? `${name} (${tag})` : `tag ${tag}`;
}

/** `struct rpmlead`, 96 bytes at the start of every package. */
export const LEAD = {
  SIZE: 96,
  MAGIC: [0xed, 0xab, 0xee, 0xdb],
  MAJOR: 3,
  MINOR: 0,
  TYPE_BINARY: 0,
  TYPE_SOURCE: 1,
  OS_LINUX: 1,
  /** Header-style signature: the only kind rpm still reads. */
  SIGNATURE_TYPE: 5,
  NAME_SIZE: 66,
} as const;

/** `arch_canon` numbers from rpmrc, written into the lead (informational only). */
export const LEAD_ARCHNUM: Readonly<Record<string, number>> = {
  noarch: 0,
  i386: 1,
  i486: 1,
  i586: 1,
  i686: 1,
  x86_64: 1,
  armv7hl: 12,
  s390x: 15,
  ppc64: 16,
  ppc64le: 16,
  aarch64: 19,
  riscv64: 22,
  loongarch64: 23,
};

export const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01, 0x00, 0x00, 0x00, 0x00] as const;

/** Dependency sense flags (`rpmds.h`). */
export const SENSE = {
  ANY: 0,
  LESS: 0x02,
  GREATER: 0x04,
  EQUAL: 0x08,
  POSTTRANS: 0x20,
  PREREQ: 0x40,
  PRETRANS: 0x80,
  INTERP: 0x100,
  SCRIPT_PRE: 0x200,
  SCRIPT_POST: 0x400,
  SCRIPT_PREUN: 0x800,
  SCRIPT_POSTUN: 0x1000,
  MISSINGOK: 0x80000,
  RPMLIB: 0x1000000,
  CONFIG: 0x10000000,
} as const;

/** File flags (`rpmfiles.h`). */
export const FILEFLAG = {
  CONFIG: 1,
  DOC: 2,
  MISSINGOK: 8,
  NOREPLACE: 16,
  SPECFILE: 32,
  GHOST: 64,
  LICENSE: 128,
  README: 256,
  PUBKEY: 2048,
  ARTIFACT: 4096,
} as const;

/** FILEDIGESTALGO / PAYLOADDIGESTALGO values (OpenPGP hash ids) → node:crypto names. */
export const DIGEST_ALGO: Readonly<Record<number, string>> = {
  1: 'md5',
  2: 'sha1',
  8: 'sha256',
  9: 'sha384',
  10: 'sha512',
  11: 'sha224',
};
