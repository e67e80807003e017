/**
 * dkms.conf is a bash script that dkms sources; dudkit never runs it. This reads the safe subset
 * of dkms-input.md §3: `[export] NAME=value` and `NAME[n]=value` lines whose values are quoted or
 * bare words with plain `$VAR` / `${VAR}` references. Anything else marks the file unsafe, and
 * the caller falls back to the module files it finds.
 */

/** A piece of a value: literal text, or a variable reference expanded later. */
export type ValuePart = { text: string } | { variable: string };

export interface Assignment {
  name: string;
  index?: number;
  parts: ValuePart[];
  line: number;
}

export interface ParsedConf {
  assignments: Assignment[];
  /** Why the file is outside the safe subset (first offending line), if it is. */
  unsafe?: string;
}

const ASSIGN = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?=/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Split dkms.conf into assignments, or say which line leaves the safe subset. */
export function parseDkmsConf(text: string): ParsedConf {
  const assignments: Assignment[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = ASSIGN.exec(line);
    if (!m) return { assignments, unsafe: `line ${lineNo} is not a plain assignment: ${clip(line)}` };
    const value = parseValue(line.slice(m[0].length));
    if (typeof value === 'string') return { assignments, unsafe: `line ${lineNo}: ${value}` };
    const a: Assignment = { name: m[1]!, parts: value, line: lineNo };
    if (m[2] !== undefined) a.index = Number(m[2]);
    assignments.push(a);
  }
  return { assignments };
}

function clip(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** The parts of one value, or a reason (string) why it is not in the safe subset. */
function parseValue(src: string): ValuePart[] | string {
  const parts: ValuePart[] = [];
  const lit = (t: string) => {
    const last = parts[parts.length - 1];
    if (last && 'text' in last) last.text += t;
    else parts.push({ text: t });
  };
  let i = 0;
  // `$…` at src[i]: a plain reference, a literal `$`, or something unsafe
  const dollar = (): string | undefined => {
    const next = src[i + 1];
    if (next === '(') return 'command substitution $(…) is not supported';
    if (next === '{') {
      const close = src.indexOf('}', i);
      const inner = close < 0 ? '' : src.slice(i + 2, close);
      if (close < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(inner)) return `parameter expansion ${clip(src.slice(i, close < 0 ? undefined : close + 1))} is not supported`;
      parts.push({ variable: inner });
      i = close + 1;
      return undefined;
    }
    const name = NAME.exec(src.slice(i + 1));
    if (name) {
      parts.push({ variable: name[0] });
      i += 1 + name[0].length;
      return undefined;
    }
    if (next === undefined || next === ' ' || next === '\t' || next === '"') {
      lit('$');
      i++;
      return undefined;
    }
    return `special parameter $${next} is not supported`;
  };

  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      const rest = src.slice(i).trimStart();
      if (rest === '' || rest.startsWith('#')) break;
      return `more than one word after the assignment: ${clip(rest)}`;
    }
    if (c === "'") {
      const close = src.indexOf("'", i + 1);
      if (close < 0) return 'single-quoted value runs past the end of the line';
      lit(src.slice(i + 1, close));
      i = close + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= src.length) return 'double-quoted value runs past the end of the line';
        const d = src[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '`') return 'command substitution `…` is not supported';
        if (d === '\\') {
          const e = src[i + 1];
          if (e === undefined) return 'line continuation inside a value is not supported';
          // inside double quotes bash only unescapes these; other backslashes stay
          lit('"\\$`'.includes(e) ? e : `\\${e}`);
          i += 2;
        } else if (d === '$') {
          const err = dollar();
          if (err) return err;
        } else {
          lit(d);
          i++;
        }
      }
    } else if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) return 'line continuation is not supported';
      lit(e);
      i += 2;
    } else if (c === '$') {
      const err = dollar();
      if (err) return err;
    } else if (';&|<>()`'.includes(c)) {
      return `shell syntax ${JSON.stringify(c)} is not supported`;
    } else {
      lit(c);
      i++;
    }
  }
  return parts;
}

/** Variables dudkit expands (dkms sets them before sourcing dkms.conf). */
export interface ConfVariables {
  module: string;
  module_version: string;
  kernelver?: string;
  arch?: string;
}

/** Values after expansion; a value that references a variable dudkit does not know is undefined. */
export interface ConfValues {
  scalars: Map<string, string | undefined>;
  arrays: Map<string, Map<number, string | undefined>>;
}

/** Expand in file order, as bash would: PACKAGE_NAME/PACKAGE_VERSION once they are assigned. */
export function expandConf(assignments: Assignment[], vars: ConfVariables): ConfValues {
  const env = new Map<string, string>(Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined));
  const values: ConfValues = { scalars: new Map(), arrays: new Map() };
  for (const a of assignments) {
    let value: string | undefined = '';
    for (const p of a.parts) {
      if ('text' in p) value += p.text;
      else {
        const v = env.get(p.variable);
        if (v === undefined) {
          value = undefined;
          break;
        }
        value += v;
      }
    }
    // in bash NAME=v and NAME[0]=v set the same thing
    const index = a.index ?? 0;
    if (index === 0) {
      values.scalars.set(a.name, value);
      if ((a.name === 'PACKAGE_NAME' || a.name === 'PACKAGE_VERSION') && value !== undefined) env.set(a.name, value);
    }
    let arr = values.arrays.get(a.name);
    if (!arr) values.arrays.set(a.name, (arr = new Map()));
    arr.set(index, value);
  }
  return values;
}

/** One BUILT_MODULE_NAME[n] entry with what dudkit uses of it. */
export interface ConfModule {
  index: number;
  builtName: string;
  /** The file name in module/ (DEST_MODULE_NAME[n], else the built name). */
  destName: string;
  destLocation?: string;
}

export interface DkmsConf {
  packageName?: string;
  packageVersion?: string;
  /** Empty when the file is unsafe or names no module; then module/ is the truth. */
  modules: ConfModule[];
  warnings: string[];
}

const IGNORED_WARN: Record<string, string> = {
  POST_INSTALL: 'POST_INSTALL script',
  MODULES_CONF: 'MODULES_CONF lines',
  MODULES_CONF_ALIAS_TYPE: 'MODULES_CONF_ALIAS_TYPE lines',
  MODULES_CONF_OBSOLETES: 'MODULES_CONF_OBSOLETES lines',
};

/** The dkms.conf facts dudkit uses, for one kernel and arch. */
export function interpretDkmsConf(text: string, vars: ConfVariables, fileName = 'dkms.conf'): DkmsConf {
  const parsed = parseDkmsConf(text);
  const warnings: string[] = [];
  if (parsed.unsafe) {
    // only literal names survive; everything else comes from module/
    const literal = (name: string) => {
      const a = parsed.assignments.find((x) => x.name === name && x.index === undefined);
      return a && a.parts.every((p) => 'text' in p) ? a.parts.map((p) => ('text' in p ? p.text : '')).join('') : undefined;
    };
    warnings.push(`${fileName}: not read (${parsed.unsafe}); module names and destinations come from the built module files`);
    const conf: DkmsConf = { modules: [], warnings };
    const name = literal('PACKAGE_NAME');
    const version = literal('PACKAGE_VERSION');
    if (name !== undefined) conf.packageName = name;
    if (version !== undefined) conf.packageVersion = version;
    return conf;
  }
  const values = expandConf(parsed.assignments, vars);
  const conf: DkmsConf = { modules: [], warnings };
  const pkgName = values.scalars.get('PACKAGE_NAME');
  const pkgVersion = values.scalars.get('PACKAGE_VERSION');
  if (pkgName !== undefined) conf.packageName = pkgName;
  if (pkgVersion !== undefined) conf.packageVersion = pkgVersion;
  for (const [key, what] of Object.entries(IGNORED_WARN)) {
    if (values.scalars.has(key) || values.arrays.has(key)) warnings.push(`${fileName}: ${what} will not run from the packaged driver`);
  }

  const built = values.arrays.get('BUILT_MODULE_NAME') ?? new Map<number, string | undefined>();
  if (built.size === 0 && pkgName !== undefined) built.set(0, pkgName); // one module may go unnamed
  const unresolved: string[] = [];
  const field = (key: string, index: number): string | undefined => {
    const arr = values.arrays.get(key);
    if (arr?.has(index)) {
      const v = arr.get(index);
      if (v === undefined) unresolved.push(`${key}[${index}]`);
      return v;
    }
    return undefined;
  };
  for (const index of [...built.keys()].sort((a, b) => a - b)) {
    const builtName = built.get(index);
    if (builtName === undefined) {
      unresolved.push(`BUILT_MODULE_NAME[${index}]`);
      continue;
    }
    const m: ConfModule = { index, builtName, destName: field('DEST_MODULE_NAME', index) ?? builtName };
    const location = field('DEST_MODULE_LOCATION', index);
    if (location !== undefined) m.destLocation = location;
    conf.modules.push(m);
  }
  if (unresolved.length) {
    warnings.push(`${fileName}: ${unresolved.join(', ')} use variables dudkit does not expand; module names and destinations come from the built module files`);
    conf.modules = [];
  }
  return conf;
}
