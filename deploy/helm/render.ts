/**
 * A small `helm template` on top of the project's Go-template engine
 * (host/output/template/): renders a chart's templates for given values the
 * way Helm 3 does, so the chart can be checked without Helm or a cluster.
 *
 * What it implements of Helm:
 *   - Chart.yaml as .Chart (Name, Version, AppVersion, ...), values.yaml merged
 *     with overrides (maps merge recursively, null deletes a key), .Release,
 *     .Capabilities.KubeVersion, .Template (Name, BasePath)
 *   - every file of templates/ is a named template (its path), files starting
 *     with "_" only define templates; NOTES.txt is rendered apart
 *   - Helm's functions over the engine's Go built-ins and Sprig subset:
 *     include, tpl, required, fail, toYaml, fromYaml, indent, nindent, trunc,
 *     b64enc, b64dec, sha256sum, kindIs, typeIs, append, merge, hasKey, keys,
 *     int, toStrings, lookup (always empty, as in `helm template`)
 *   - "<no value>" prints as "" (Helm's default), or is an error with `strict`
 * Not implemented: subcharts, .Files, .Capabilities.APIVersions.Has (method calls),
 * schema validation of values (values.schema.json).
 *
 * CLI: node --import tsx deploy/helm/render.ts [CHART_DIR] [-f VALUES.yaml]... [--set a.b=c]...
 *        [--name RELEASE] [--namespace NS] [--strict] [--notes]
 * prints the manifests like `helm template` (each after "---" and "# Source: ...").
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import { Template } from '../../host/output/template/template.ts';
import { isTrue, kindOf } from '../../host/output/template/values.ts';
import { strval } from '../../host/output/template/sprig.ts';

export interface RenderOptions {
  /** Value overrides, applied in order over the chart's values.yaml (like -f files). */
  values?: Array<Record<string, unknown>>;
  /** `--set` expressions (a.b=c, a.list={x,y}), applied after `values`. */
  set?: string[];
  releaseName?: string;
  namespace?: string;
  /** The Kubernetes version for .Capabilities.KubeVersion. Default 1.30.0. */
  kubeVersion?: string;
  /** Fail on "<no value>" in the output (a missing value), instead of printing "". */
  strict?: boolean;
}

export interface RenderedChart {
  /** Rendered template files by name (e.g. "tracee-ts/templates/daemonset.yaml"), partials and NOTES.txt excluded. */
  files: Map<string, string>;
  notes: string;
  /** The merged values the templates saw. */
  values: Record<string, unknown>;
}

export interface Manifest {
  source: string;
  /** The parsed document (a plain object). */
  doc: Record<string, any>;
}

/** An error from rendering: the chart, the template and Helm's message. */
export class ChartRenderError extends Error {
  readonly code = 'TRC_ERR_CHART_RENDER';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChartRenderError';
  }
}

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => kindOf(v) === 'map';

/** Helm's coalescing of values: maps merge recursively, anything else replaces, null deletes. */
export function mergeValues(base: Dict, override: Dict): Dict {
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete out[k];
    else if (isDict(v) && isDict(out[k])) out[k] = mergeValues(out[k] as Dict, v);
    else out[k] = structuredClone(v);
  }
  return out;
}

/** Applies one `--set` expression: a.b.c=value, with value typed as Helm does (bool, int, null, {a,b} list, else string). */
export function applySet(values: Dict, expr: string): Dict {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new ChartRenderError(`--set ${expr}: expected key=value`);
  const path = expr.slice(0, eq).split('.');
  const raw = expr.slice(eq + 1);
  const typed = (s: string): unknown => {
    if (s === 'true') return true;
    if (s === 'false') return false;
    if (s === 'null') return null;
    if (/^-?(0|[1-9][0-9]*)$/.test(s)) return Number(s);
    return s;
  };
  const value = raw.startsWith('{') && raw.endsWith('}') ? (raw.length > 2 ? raw.slice(1, -1).split(',').map(typed) : []) : typed(raw);
  let patch: Dict = { [path[path.length - 1]]: value };
  for (let i = path.length - 2; i >= 0; i--) patch = { [path[i]]: patch };
  return mergeValues(values, patch);
}

function helmToYaml(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  // sigs.k8s.io/yaml: keys sorted; Helm trims the final newline
  return stringifyYaml(v, { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false }).replace(/\n$/, '');
}

function indent(n: number, s: string): string {
  const pad = ' '.repeat(n);
  return pad + String(s).replaceAll('\n', '\n' + pad);
}

/** Sprig's merge: keys of later dicts fill in what earlier ones lack, recursively; the first dict wins. */
function sprigMerge(dst: Dict, ...srcs: Dict[]): Dict {
  for (const src of srcs) {
    if (!isDict(src)) continue;
    for (const [k, v] of Object.entries(src)) {
      if (!(k in dst) || dst[k] === undefined) dst[k] = structuredClone(v);
      else if (isDict(dst[k]) && isDict(v)) sprigMerge(dst[k] as Dict, v);
    }
  }
  return dst;
}

function goKind(v: unknown): string {
  switch (kindOf(v)) {
    case 'int': return 'int';
    case 'float': return 'float64';
    case 'nil': case 'invalid': return 'invalid';
    default: return kindOf(v);
  }
}

function chartMetadata(raw: Dict): Dict {
  const names: Record<string, string> = { apiVersion: 'APIVersion', appVersion: 'AppVersion', kubeVersion: 'KubeVersion' };
  const out: Dict = {};
  for (const [k, v] of Object.entries(raw)) out[names[k] ?? k[0].toUpperCase() + k.slice(1)] = v;
  return out;
}

/** Renders a chart directory. Throws ChartRenderError naming the template on any template error. */
export function renderChart(chartDir: string, options: RenderOptions = {}): RenderedChart {
  const dir = resolve(chartDir);
  const chartRaw = parseYaml(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as Dict;
  const chart = chartMetadata(chartRaw);
  const chartName = String(chart.Name);
  let values = (existsSync(join(dir, 'values.yaml')) ? parseYaml(readFileSync(join(dir, 'values.yaml'), 'utf8')) : {}) as Dict ?? {};
  for (const v of options.values ?? []) values = mergeValues(values, v);
  for (const s of options.set ?? []) values = applySet(values, s);

  const kube = (options.kubeVersion ?? '1.30.0').replace(/^v/, '');
  const [major, minor] = kube.split('.');
  const basePath = `${chartName}/templates`;
  const top: Dict = {
    Values: values,
    Chart: chart,
    Release: { Name: options.releaseName ?? chartName, Namespace: options.namespace ?? 'default', IsInstall: true, IsUpgrade: false, Revision: 1, Service: 'Helm' },
    Capabilities: { KubeVersion: { Version: `v${kube}`, GitVersion: `v${kube}`, Major: major, Minor: minor }, HelmVersion: { Version: 'v3.14.0' } },
    Template: { Name: '', BasePath: basePath },
  };

  const tdir = join(dir, 'templates');
  const names = existsSync(tdir) ? readdirSync(tdir).filter((n) => !n.startsWith('.')).sort() : [];
  const partials = names.filter((n) => n.startsWith('_')).map((n) => readFileSync(join(tdir, n), 'utf8')).join('\n');
  const sources = new Map(names.filter((n) => !n.startsWith('_')).map((n) => [`${basePath}/${n}`, readFileSync(join(tdir, n), 'utf8')]));
  // every non-partial file is also a named template, so include can render another file (checksums)
  const wrapped = [...sources].filter(([, text]) => !/\{\{-?\s*define\s/.test(text))
    .map(([name, text]) => `{{define ${JSON.stringify(name)}}}${text}{{end}}`).join('');

  const noValue = (name: string, out: string): string => {
    if (!out.includes('<no value>')) return out;
    if (options.strict) throw new ChartRenderError(`${name}: a value is missing ("<no value>" in the output):\n${out.split('\n').filter((l) => l.includes('<no value>')).join('\n')}`);
    return out.replaceAll('<no value>', '');
  };

  const compile = (name: string, text: string): Template => {
    let self: Template;
    const funcs: Record<string, (...args: any[]) => unknown> = {
      include: (tname: string, data: unknown) => self.executeTemplate(String(tname), data),
      tpl: (text: string, data: unknown) => noValue(`tpl in ${name}`, compile(`${name}/tpl`, String(text)).execute(data)),
      required: (msg: string, v: unknown) => {
        if (v === undefined || v === null || (typeof v === 'string' && v === '')) throw new Error(String(msg));
        return v;
      },
      fail: (msg: string) => { throw new Error(String(msg)); },
      toYaml: helmToYaml,
      fromYaml: (s: string) => { try { return parseYaml(String(s)) ?? {}; } catch (e) { return { Error: (e as Error).message }; } },
      indent: (n: number, s: string) => indent(Number(n), strval(s)),
      nindent: (n: number, s: string) => '\n' + indent(Number(n), strval(s)),
      trunc: (n: number, s: string) => { const str = strval(s); const k = Number(n); return k >= 0 ? str.slice(0, k) : str.slice(Math.max(0, str.length + k)); },
      b64enc: (s: string) => Buffer.from(strval(s)).toString('base64'),
      b64dec: (s: string) => Buffer.from(strval(s), 'base64').toString('utf8'),
      sha256sum: (s: string) => createHash('sha256').update(strval(s)).digest('hex'),
      kindIs: (k: string, v: unknown) => goKind(v) === k,
      typeIs: (t: string, v: unknown) => ({ string: 'string', bool: 'bool', int: 'int', float64: 'float64' } as Dict)[goKind(v)] === t,
      append: (list: unknown, v: unknown) => [...(Array.isArray(list) ? list : []), v],
      merge: (dst: Dict, ...srcs: Dict[]) => sprigMerge(dst, ...srcs),
      hasKey: (d: Dict, k: string) => isDict(d) && Object.hasOwn(d, k),
      keys: (...ds: Dict[]) => ds.flatMap((d) => Object.keys(d ?? {})),
      int: (v: unknown) => Math.trunc(Number(v) || 0),
      toStrings: (v: unknown) => (Array.isArray(v) ? v.map(strval) : [strval(v)]),
      lookup: () => ({}),
      isTrue: (v: unknown) => isTrue(v),
    };
    self = Template.compile(name, `${text}${partials}${wrapped}`, { funcs });
    return self;
  };

  const files = new Map<string, string>();
  let notes = '';
  for (const [name, text] of sources) {
    const data = { ...top, Template: { Name: name, BasePath: basePath } };
    let out: string;
    try {
      out = compile(basename(name), text).execute(data);
    } catch (err) {
      throw new ChartRenderError(`${chartName}: rendering ${name}: ${(err as Error).message}`, { cause: err });
    }
    out = noValue(name, out).replace(/\s+$/, '') + '\n';
    if (name.endsWith('/NOTES.txt')) notes = out;
    else files.set(name, out);
  }
  return { files, notes, values };
}

/**
 * The Kubernetes objects of a rendered chart: every YAML document of every file,
 * parsed; empty documents (a template whose condition is off) are dropped. A YAML
 * error or warning is a ChartRenderError naming the file.
 */
export function manifests(rendered: RenderedChart): Manifest[] {
  const out: Manifest[] = [];
  for (const [source, text] of rendered.files) {
    if (!/\.(ya?ml|json)$/.test(source)) continue;
    for (const doc of parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true })) {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length) throw new ChartRenderError(`${source}: invalid YAML: ${problems.map((p) => p.message).join('; ')}\n${text}`);
      const value = doc.toJS({ maxAliasCount: 0 });
      if (value === null || value === undefined) continue;
      if (!isDict(value)) throw new ChartRenderError(`${source}: a document is not a mapping: ${JSON.stringify(value).slice(0, 100)}`);
      out.push({ source, doc: value as Record<string, any> });
    }
  }
  return out;
}

/** `helm template`'s output format. */
export function formatManifests(rendered: RenderedChart): string {
  let out = '';
  for (const [source, text] of rendered.files) {
    for (const part of text.split(/^---\s*$/m)) {
      if (part.replace(/^\s*#.*$/gm, '').trim() === '') continue;
      out += `---\n# Source: ${source}\n${part.replace(/^\n+/, '')}`;
    }
  }
  return out;
}

function main(argv: string[]): number {
  let chartDir = join(fileURLToPath(new URL('.', import.meta.url)), 'tracee-ts');
  const opts: RenderOptions = { values: [], set: [] };
  let showNotes = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) throw new ChartRenderError(`${a}: missing value`); return argv[++i]; };
    if (a === '-f' || a === '--values') opts.values!.push(parseYaml(readFileSync(next(), 'utf8')) ?? {});
    else if (a === '--set') opts.set!.push(...next().split(/,(?![^{]*})/));
    else if (a === '--name') opts.releaseName = next();
    else if (a === '--namespace' || a === '-n') opts.namespace = next();
    else if (a === '--kube-version') opts.kubeVersion = next();
    else if (a === '--strict') opts.strict = true;
    else if (a === '--notes') showNotes = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: render.ts [CHART_DIR] [-f values.yaml]... [--set a.b=c]... [--name R] [--namespace NS] [--kube-version V] [--strict] [--notes]\n');
      return 0;
    } else if (!a.startsWith('-')) chartDir = a;
    else throw new ChartRenderError(`unknown flag ${a}`);
  }
  const rendered = renderChart(chartDir, opts);
  manifests(rendered); // fails on invalid YAML
  process.stdout.write(formatManifests(rendered));
  if (showNotes) process.stdout.write(`\nNOTES:\n${rendered.notes}`);
  return 0;
}

if (process.argv[1] && existsSync(process.argv[1]) && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`render: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
