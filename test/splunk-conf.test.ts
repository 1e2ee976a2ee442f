import { ConfSyntaxError, formatConf, layerConfs, parseConf } from '../src/splunk/conf.js';

describe('Splunk .conf parsing', () => {
  const defaultConf = parseConf('# comment\n[service]\nhosts = 127.0.0.1:9999\ntimeout = 5\n\n[lookup]\npattern = ip=%IP% \\\nurl=%URL%\n', 'default/feedtrace.conf');
  const localConf = parseConf('[service]\nhosts = 10.0.0.1:9999, 10.0.0.2:9999\n', 'local/feedtrace.conf');

  it('reads stanzas, keys, line numbers and continued lines', () => {
    expect(defaultConf.stanzas.map((s) => s.name)).toEqual(['service', 'lookup']);
    expect(defaultConf.stanzas[0]!.settings[1]).toEqual({ key: 'timeout', value: '5', line: 4 });
    expect(defaultConf.stanzas[1]!.settings[0]!.value).toBe('ip=%IP% \nurl=%URL%');
  });

  it('layers local over default key by key', () => {
    const merged = layerConfs([defaultConf, localConf]);
    expect(merged.get('service')!.get('hosts')).toBe('10.0.0.1:9999, 10.0.0.2:9999');
    expect(merged.get('service')!.get('timeout')).toBe('5');
  });

  it('names the file and line of a bad line', () => {
    expect(() => parseConf('[a]\njust words\n', 'x.conf')).toThrow(new ConfSyntaxError('x.conf', 2, 'expected "key = value" or [stanza]: just words'));
  });

  it('writes stanzas back so that they parse to the same settings, continued lines included', () => {
    const text = formatConf(defaultConf.stanzas, 'generated\nfrom a test');
    expect(text.startsWith('# generated\n# from a test\n\n[service]\nhosts = 127.0.0.1:9999\n')).toBe(true);
    const again = parseConf(text, 'again.conf');
    expect(again.stanzas.map((s) => [s.name, s.settings.map((x) => [x.key, x.value])])).toEqual(defaultConf.stanzas.map((s) => [s.name, s.settings.map((x) => [x.key, x.value])]));
  });
});
