/**
 * Simple XML 1.1 dashboard and navigation checks. Splunk's own schema is outdated (no `version`, a wrongly
 * mandatory `theme`), so these are our rules from splunk-app.md §7:
 * - root `<dashboard>` or `<form>` with `version="1.1"`, only known elements in known places;
 * - every `<search base="x">` names a `<search id="x">` of the same dashboard;
 * - every `$token$` is set somewhere (an input, `<set>`/`<eval>`, a time input's `.earliest`/`.latest`) or
 *   is one Splunk predefines for the context (`$click.*$`, `$row.*$` in drilldowns, `$result.*$`, `$job.*$`
 *   in search handlers, `$env:*$` anywhere);
 * - drilldowns set tokens that exist (`form.<input>` needs that input) and link to searches or to views the
 *   app ships;
 * - no custom JavaScript or CSS (`script=`, `stylesheet=`, `<script>` in `<html>`), which Cloud vetting rejects.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One XML element in document order. */
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Concatenated text and CDATA directly inside this element. */
  text: string;
}

const ATTR = '@_';

/** Parses XML text into XmlNodes, failing on anything not well-formed. */
export function parseXml(xml: string, path = '<xml>'): XmlNode {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`${path}:${valid.err.line}: ${valid.err.msg}`);
  const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: ATTR, parseTagValue: false, parseAttributeValue: false, trimValues: false, cdataPropName: '#cdata', commentPropName: '#comment' });
  const toNode = (raw: Record<string, unknown>): XmlNode | undefined => {
    const name = Object.keys(raw).find((k) => k !== ':@');
    if (name === undefined || name === '#text' || name === '#cdata' || name === '#comment' || name.startsWith('?')) return undefined;
    const attrsRaw = (raw[':@'] ?? {}) as Record<string, string>;
    const attrs = Object.fromEntries(Object.entries(attrsRaw).map(([k, v]) => [k.slice(ATTR.length), String(v)]));
    const items = raw[name] as Array<Record<string, unknown>>;
    let text = '';
    const children: XmlNode[] = [];
    for (const item of items) {
      if ('#text' in item) text += String(item['#text']);
      else if ('#cdata' in item) text += (item['#cdata'] as Array<{ '#text': string }>).map((t) => String(t['#text'])).join('');
      else {
        const child = toNode(item);
        if (child) children.push(child);
      }
    }
    return { name, attrs, children, text };
  };
  const roots = (parser.parse(xml) as Array<Record<string, unknown>>).map(toNode).filter((n): n is XmlNode => n !== undefined);
  if (roots.length !== 1) throw new Error(`${path}: expected one root element, found ${roots.length}`);
  return roots[0]!;
}

/** Which child elements each Simple XML element may hold. */
const CHILDREN: Record<string, string[]> = {
  form: ['label', 'description', 'init', 'search', 'fieldset', 'row'],
  dashboard: ['label', 'description', 'init', 'search', 'row'],
  init: ['set', 'unset', 'eval'],
  fieldset: ['input', 'html'],
  input: ['label', 'default', 'initialValue', 'choice', 'search', 'fieldForLabel', 'fieldForValue', 'prefix', 'suffix', 'valuePrefix', 'valueSuffix', 'delimiter', 'change'],
  default: ['earliest', 'latest'],
  initialValue: ['earliest', 'latest'],
  row: ['panel'],
  panel: ['title', 'input', 'chart', 'table', 'single', 'event', 'map', 'html', 'viz', 'search'],
  chart: ['title', 'search', 'option', 'drilldown', 'selection'],
  table: ['title', 'search', 'option', 'drilldown', 'fields', 'format'],
  single: ['title', 'search', 'option', 'drilldown'],
  event: ['title', 'search', 'option', 'drilldown', 'fields'],
  map: ['title', 'search', 'option', 'drilldown'],
  search: ['query', 'earliest', 'latest', 'refresh', 'refreshType', 'sampleRatio', 'progress', 'done', 'cancelled', 'error', 'fail', 'preview', 'finalized'],
  drilldown: ['set', 'unset', 'eval', 'link', 'condition'],
  change: ['set', 'unset', 'eval', 'link', 'condition'],
  condition: ['set', 'unset', 'eval', 'link'],
  progress: ['set', 'unset', 'eval', 'condition'],
  done: ['set', 'unset', 'eval', 'condition'],
  format: ['colorPalette', 'scale', 'option'],
};
const LEAVES = new Set(['label', 'description', 'title', 'query', 'earliest', 'latest', 'refresh', 'refreshType', 'sampleRatio', 'option', 'set', 'unset', 'eval', 'link', 'choice', 'fieldForLabel', 'fieldForValue', 'prefix', 'suffix', 'valuePrefix', 'valueSuffix', 'delimiter', 'fields', 'colorPalette', 'scale', 'html', 'selection', 'viz', 'cancelled', 'error', 'fail', 'preview', 'finalized']);

export interface DashboardInfo {
  /** Every `<query>` (tokens still in place). */
  queries: string[];
  problems: string[];
}

/** Token references in a string: `$name$` or `$name|filter$`, `$$` being a literal dollar. */
export function tokenRefs(text: string): string[] {
  const refs: string[] = [];
  for (const m of text.matchAll(/\$([^$\s]*)\$/g)) if (m[1] !== '') refs.push(m[1]!.split('|')[0]!);
  return refs;
}

/** Replaces every token reference by a plain value, so the search around it can be analysed. */
export function substituteTokens(text: string, value = 'x'): string {
  return text.replace(/\$([^$\s]*)\$/g, (whole, inner: string) => (inner === '' ? '$' : inner.includes('|s') ? `"${value}"` : value));
}

function walk(node: XmlNode, visit: (node: XmlNode, ancestors: XmlNode[]) => void, ancestors: XmlNode[] = []): void {
  visit(node, ancestors);
  for (const child of node.children) walk(child, visit, [...ancestors, node]);
}

/** Checks one dashboard; `views` are the view names the app ships (for drilldown links). */
export function checkDashboard(root: XmlNode, views: Set<string>): DashboardInfo {
  const problems: string[] = [];
  const queries: string[] = [];
  if (root.name !== 'form' && root.name !== 'dashboard') problems.push(`root is <${root.name}>, not <dashboard> or <form>`);
  if (root.attrs.version !== '1.1') problems.push(`root version is ${JSON.stringify(root.attrs.version)}, not "1.1"`);
  for (const attr of ['script', 'stylesheet']) if (attr in root.attrs) problems.push(`custom ${attr}= is not allowed`);
  if (root.name === 'dashboard' && root.children.some((c) => c.name === 'fieldset')) problems.push('a <dashboard> has a <fieldset>: use <form>');

  const searchIds = new Set<string>();
  const inputs = new Set<string>();
  const defined = new Set<string>();
  walk(root, (node) => {
    if (node.name === 'search' && node.attrs.id) {
      if (searchIds.has(node.attrs.id)) problems.push(`duplicate search id "${node.attrs.id}"`);
      searchIds.add(node.attrs.id);
    }
    if (node.name === 'input' && node.attrs.token) {
      inputs.add(node.attrs.token);
      defined.add(node.attrs.token);
      if (node.attrs.type === 'time') for (const part of ['earliest', 'latest']) defined.add(`${node.attrs.token}.${part}`);
    }
    if (['set', 'eval', 'unset'].includes(node.name) && node.attrs.token) defined.add(node.attrs.token.replace(/^form\./, ''));
  });

  walk(root, (node, ancestors) => {
    if (ancestors.some((a) => a.name === 'html')) return; // free HTML (checked for <script> below)
    const parent = ancestors[ancestors.length - 1];
    const where = [...ancestors.map((a) => a.name), node.name].join('/');
    if (parent) {
      const allowed = CHILDREN[parent.name];
      if (allowed && !allowed.includes(node.name)) problems.push(`<${node.name}> is not allowed in <${parent.name}> (${where})`);
      if (LEAVES.has(parent.name) && parent.name !== 'html') problems.push(`<${parent.name}> holds <${node.name}> (${where})`);
    }
    if (!(node.name in CHILDREN) && !LEAVES.has(node.name)) problems.push(`unknown element <${node.name}> (${where})`);
    if (node.name === 'html' && (node.children.some((c) => c.name === 'script') || /<script/i.test(node.text))) problems.push('<script> in <html> is not allowed');
    if (node.name === 'search') {
      if (node.attrs.base !== undefined && !searchIds.has(node.attrs.base)) problems.push(`<search base="${node.attrs.base}"> names no <search id> (${where})`);
      const query = node.children.find((c) => c.name === 'query');
      if (node.attrs.ref === undefined && !query) problems.push(`<search> without <query> or ref (${where})`);
      if (query) queries.push(query.text);
    }
    // Tokens: context tokens are valid only where Splunk sets them.
    const inDrilldown = ancestors.some((a) => a.name === 'drilldown');
    const inHandler = ancestors.some((a) => ['done', 'progress', 'finalized', 'preview', 'error', 'fail', 'cancelled'].includes(a.name));
    const inChange = ancestors.some((a) => a.name === 'change');
    const texts = [node.text, ...Object.entries(node.attrs).filter(([k]) => k !== 'token').map(([, v]) => v)];
    for (const ref of texts.flatMap(tokenRefs)) {
      const ok =
        defined.has(ref) ||
        ref.startsWith('env:') ||
        (inDrilldown && /^(click|row|earliest$|latest$|trellis)/.test(ref)) ||
        (inHandler && /^(result|job)\./.test(ref)) ||
        (inChange && /^(value|label)$/.test(ref));
      if (!ok) problems.push(`token $${ref}$ is never set (${where})`);
    }
    if ((node.name === 'set' || node.name === 'unset') && node.attrs.token?.startsWith('form.')) {
      const input = node.attrs.token.slice('form.'.length);
      if (!inputs.has(input)) problems.push(`<${node.name} token="${node.attrs.token}"> names no input (${where})`);
    }
    if (node.name === 'link') {
      const target = node.text.trim().replace(/^\/app\/[^/]+\//, '');
      const view = /^([A-Za-z0-9_]+)(?:\?|$)/.exec(target)?.[1];
      const builtIn = new Set(['search', 'alerts', 'reports', 'dashboards', 'datasets']);
      if (!/^https?:/.test(target) && (view === undefined || (!builtIn.has(view) && !views.has(view)))) problems.push(`<link> to "${target}" names no view of the app (${where})`);
    }
  });
  return { queries, problems };
}

/** default/data/ui/nav/default.xml: every view exists, exactly one is the default. */
export function checkNav(root: XmlNode, views: Set<string>): string[] {
  const problems: string[] = [];
  if (root.name !== 'nav') problems.push(`root is <${root.name}>, not <nav>`);
  const builtIn = new Set(['search', 'datasets', 'reports', 'alerts', 'dashboards', 'analytics_workspace']);
  let defaults = 0;
  walk(root, (node) => {
    if (node.name === 'view') {
      const name = node.attrs.name ?? '';
      if (!views.has(name) && !builtIn.has(name)) problems.push(`nav names view "${name}" that does not exist`);
      if (node.attrs.default === 'true') defaults++;
    } else if (!['nav', 'collection', 'a', 'divider', 'saved'].includes(node.name)) problems.push(`unknown nav element <${node.name}>`);
  });
  if (defaults !== 1) problems.push(`nav has ${defaults} default views, not 1`);
  return problems;
}
