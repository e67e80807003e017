/**
 * The legacy pack's `install` script (`xenserver.md` §3.7): plain POSIX sh with awk, sed,
 * md5sum and rpm, no Python libraries, doing what the reference installer does in its order:
 * product check, already-installed check, requirements, size and MD5 of every package, `rpm`
 * in list order, record under installed-repos, refresh xapi's pack list.
 *
 * `XS_ROOT` (default empty) prefixes every host path and is passed to rpm as `--root`: the same
 * script then installs into a mounted host image.
 */
import type { Requirement, XsPackage } from './legacy.js';

export interface InstallScriptInput {
  originator: string;
  name: string;
  product: string;
  version: string;
  requires: readonly Requirement[];
  /** In install order, with their final size and MD5. */
  packages: readonly Pick<XsPackage, 'file' | 'size' | 'md5' | 'options'>[];
}

/** Single-quote a word for /bin/sh. */
function q(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The fixed part; `@{` stands for the shell's `${` (a template literal cannot hold it raw). */
const HEAD = String.raw`set -u
INVENTORY="@{XS_ROOT:-}/etc/xensource-inventory"
REPOS="@{XS_ROOT:-}/etc/xensource/installed-repos"

die() { echo "install: $*" >&2; exit 1; }

upgrade=
for a in "$@"; do
    case $a in
        -b|--batch) ;;
        -u|--upgrade) upgrade=1 ;;
        *) die "unknown option $a (known: -b --batch -u --upgrade)" ;;
    esac
done

cd "$(dirname "$0")" || die "cannot change into the pack folder"
[ -r "$INVENTORY" ] || die "$INVENTORY is missing: not a XenServer host"

# inv KEY: a value of the inventory (KEY='value' lines)
inv() { sed -n "s/^$1='\(.*\)'\$/\1/p" "$INVENTORY" | head -n 1; }

# vcmp A B: -1, 0 or 1 the way the legacy installer compares (xcp.version, xenserver.md 3.2.1): the
# build after the first "-" dropped, arcs compared pairwise as numbers, and when those are equal the
# version with more arcs is greater (7.0 < 7.0.0); "?" for an arc that is not a number
vcmp() {
    awk -v a="@{1%%-*}" -v b="@{2%%-*}" 'BEGIN {
        na = split(a, x, "."); nb = split(b, y, ".")
        for (i = 1; i <= na && i <= nb; i++) {
            if (x[i] !~ /^[0-9]+$/ || y[i] !~ /^[0-9]+$/) { print "?"; exit }
            if (x[i] + 0 != y[i] + 0) { print (x[i] + 0 < y[i] + 0) ? -1 : 1; exit }
        }
        print (na < nb) ? -1 : (na > nb) ? 1 : 0
    }'
}

# need ORIGINATOR NAME TEST VERSION: a requirement on the base product or an installed pack
need() {
    case $1:$2 in
        xs:main) have=$(inv PRODUCT_VERSION) ;;
        xcp:main) have=$(inv PLATFORM_VERSION) ;;
        *)
            f="$REPOS/$1:$2/XS-REPOSITORY"
            [ -r "$f" ] || die "requires $1:$2 $3 $4, which is not installed"
            have=$(sed -n 's/.*<repository[^>]* version="\([^"]*\)".*/\1/p' "$f" | head -n 1) ;;
    esac
    [ -n "$have" ] || die "requires $1:$2 $3 $4, but its version is unknown"
    c=$(vcmp "$have" "$4")
    [ "$c" != "?" ] || die "requires $1:$2 $3 $4, found $have: versions whose arcs are not numbers cannot be compared"
    case $3 in
        eq) [ "$c" = 0 ] ;; ne) [ "$c" != 0 ] ;; lt) [ "$c" = -1 ] ;;
        gt) [ "$c" = 1 ] ;; le) [ "$c" != 1 ] ;; ge) [ "$c" != -1 ] ;;
        *) false ;;
    esac || die "requires $1:$2 $3 $4, found $have"
}

# check FILE SIZE MD5
check() {
    [ -f "$1" ] || die "FATAL: $1 is missing"
    [ "$(wc -c < "$1" | tr -d ' ')" = "$2" ] || die "FATAL: size mismatch for $1"
    [ "$(md5sum < "$1" | cut -c1-32)" = "$3" ] || die "FATAL: MD5 mismatch for $1"
}

# add FILE RPM-MODE: skipped when that version-release is installed already
add() {
    nvr=$(rpm -qp --qf '%{NAME}-%{VERSION}-%{RELEASE}' "$1" 2>/dev/null) || die "cannot read $1"
    if rpm @{XS_ROOT:+--root "$XS_ROOT"} -q "$nvr" >/dev/null 2>&1; then echo "$nvr is installed already"; return; fi
    rpm @{XS_ROOT:+--root "$XS_ROOT"} "$2" "$1" || die "rpm $2 $1 failed"
}
`.replace(/@\{/g, '${');

export function installScript(p: InstallScriptInput): string {
  const id = `${p.originator}:${p.name}`;
  const lines = [
    '#!/bin/sh',
    `# Installs the XenServer supplemental pack ${id} ${p.version} (written by dudkit).`,
    '# Run from the mounted pack: ./install [-b|--batch] [-u|--upgrade]',
    HEAD,
    `PRODUCT=${q(p.product)}`,
    `ID=${q(id)}`,
    '[ "$PRODUCT" = "$(inv PRODUCT_BRAND)" ] || [ "$PRODUCT" = "$(inv PLATFORM_NAME)" ] || die "this pack is for $PRODUCT, this host is $(inv PRODUCT_BRAND)"',
    '[ -z "$upgrade" ] && [ -e "$REPOS/$ID" ] && die "$ID is installed already (use --upgrade to reinstall)"',
    ...p.requires.map((r) => `need ${q(r.originator)} ${q(r.name)} ${q(r.test)} ${q(r.version)}`),
    ...p.packages.map((k) => `check ${q(k.file)} ${k.size} ${k.md5}`),
    ...p.packages.map((k) => `add ${q(k.file)} ${k.options?.split(/\s+/).includes('-i') ? '-ihv' : '-Uhv'}`),
    'mkdir -p "$REPOS/$ID" && cp XS-REPOSITORY XS-PACKAGES "$REPOS/$ID/" || die "cannot record the pack in $REPOS/$ID"',
    'if [ -z "${XS_ROOT:-}" ]; then',
    '    xe host-refresh-pack-info host-uuid="$(inv INSTALLATION_UUID)" || echo "install: xe host-refresh-pack-info failed; the pack shows in software-version after the next xapi restart" >&2',
    'fi',
    `echo "$ID ${p.version} installed"`,
    '',
  ];
  return lines.join('\n');
}
