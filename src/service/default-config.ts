/**
 * The shipped service configuration (CyberTrace element names; Feedtrace additions are marked in
 * docs/service-config.md). Used when `feedtrace serve` gets no `--config`.
 *
 * Why the default regexes cannot backtrack catastrophically — every one has one of two shapes:
 *  (a) bounded width: IPv4/IPv6 and hashes match at most ~45 characters from a start position, so the work per
 *      start position is a constant and a scan is O(n);
 *  (b) key-anchored or scheme-anchored: a literal key (`url=`, `"host":`, `http://`) must match first and may
 *      start only where the previous character cannot continue a key (a lookbehind), then a single quantified
 *      class runs to the end of the value; no quantified group contains another quantifier over overlapping
 *      characters (`(?:\.LABEL)+` is separated by a literal dot that LABEL excludes), so an attempt does
 *      O(length of the value) work. Such an attempt fails after a long run only when the run cannot end a value
 *      (a URL of nothing but trailing punctuation), and no other attempt can start inside that run, so the runs
 *      a scan walks add up to O(n).
 * test/service-config-backtracking.test.ts checks this on 1 MB of adversarial text by counting the steps of a
 * backtracking machine that finds the same matches as V8 (1–11 steps per character).
 */

/** One IPv4 octet 0–255 without leading zeros. */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Dotted-quad IPv4. */
export const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const HEXTET = '[0-9A-Fa-f]{1,4}';
/** IPv6 in full or `::`-compressed form (RFC 4291 §2.2 forms 1 and 2; the IPv4-tail form is left to IPV4). */
export const IPV6 = [
  `(?:${HEXTET}:){7}${HEXTET}`,
  `(?:${HEXTET}:){1,6}:${HEXTET}`,
  `(?:${HEXTET}:){1,5}(?::${HEXTET}){1,2}`,
  `(?:${HEXTET}:){1,4}(?::${HEXTET}){1,3}`,
  `(?:${HEXTET}:){1,3}(?::${HEXTET}){1,4}`,
  `(?:${HEXTET}:){1,2}(?::${HEXTET}){1,5}`,
  `${HEXTET}:(?::${HEXTET}){1,6}`,
  `:(?::${HEXTET}){1,7}`,
  `(?:${HEXTET}:){1,7}:`,
].map((form) => `(?:${form})`).join('|');

/** Where an address can start: a digit, a colon, or a hextet of letters and digits ending in a colon. */
const ADDRESS_START = '(?=[\\d:]|[A-Fa-f][0-9A-Fa-f]{0,3}:)';
/** Cheap test before the IPv6 alternatives: two colons within the first two hextets. */
const HEXTET_GUARD = '[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:';

/** A key may start only where no key character precedes it (so `xurl=`, `a.host=`, `?query=` or `msg=url=` is not a key). */
const KEY_START = '(?<![\\w.\\-?&/=])';
/** `key=value`, `key: value`, JSON `"key":"value"` / `"key": "value"`. */
const KEY_VALUE_SEPARATOR = '"?(?:=|\\s*:\\s*)"?';
/** A key (its opening JSON quote is outside the match: the lookbehind lets a key follow `"`). */
const keyed = (keys: string[]): string => `${KEY_START}(?:${keys.join('|')})${KEY_VALUE_SEPARATOR}`;

/** A character of a URL in free text: not whitespace, a quote, an angle bracket or a backslash (JSON escapes). */
const URL_CHAR = '[^\\s"\'<>\\\\]';
const URL_KEYS = ['url', 'URL', 'Url', 'request', 'requestURL', 'requestUrl', 'request_url', 'dest_url', 'http_url'];
const DOMAIN_KEYS = [
  'domain', 'Domain', 'host', 'Host', 'hostname', 'dhost', 'dns_query', 'query', 'qname', 'rrname',
  'server_name', 'sni', 'QueryName', 'DestinationHostname', 'destinationHostName',
];
const SRC_IP_KEYS = ['src', 'src_ip', 'srcip', 'source_ip', 'sourceAddress', 'SourceIp', 'id\\.orig_h', 'client_ip', 'c-ip'];

/** A DNS label, Unicode letters allowed (IDN hosts as logs write them). */
const LABEL = '[\\p{L}\\p{N}_\\-]+';
/** Not a value made only of digits and dots (an IPv4 address in a host field is RE_IP's). */
const NOT_NUMERIC_HOST = '(?![\\d.]+(?![\\p{L}\\p{N}_.\\-]))';

/**
 * A hex word of exactly `length` digits, not next to a letter, digit, "_" or "-" (GUID parts, longer hex), and not
 * a Sysmon IMPHASH (an import-table digest, not a file hash). `\b` first: V8 rejects mid-word positions fastest so.
 * The extractor recognises these patterns and finds the same words without running them (src/service/extract.ts).
 */
export const hexWordPattern = (length: number): string => `\\b(?<!-)(?<!IMPHASH=)([0-9A-Fa-f]{${length}})\\b(?!-)`;

/**
 * RE_IP: IPv4 with an optional :port (matched as ip:port), or IPv6; never a part of a longer dotted/hex run. Not
 * after "/": the host of http://1.2.3.4/x is looked up through the URL already (one detection, not two).
 * Cheap guards first (ADDRESS_START, HEXTET_GUARD): the scan is 2-3x faster than trying every alternative.
 * The extractor runs it only where an address can start (src/service/extract.ts), which is faster still.
 */
export const ADDRESS_PATTERN = `${ADDRESS_START}(?:(?<![\\w./])(${IPV4}(?::\\d{1,5}(?!\\d))?)(?!\\w|\\.\\d)|(?<![\\w.:])(?=${HEXTET_GUARD})(${IPV6})(?![\\w.:]))`;

/** The regexes of `<Source id="default">`, in evaluation order: name → [type, extract, Boost/Perl pattern]. */
export const DEFAULT_REGEXES: ReadonlyArray<readonly [name: string, type: string, extract: 'all' | 'first', pattern: string]> = [
  // Balancer-style request id at the start of the event, echoed in replies so a client can pair them.
  ['REQ', 'CONTEXT', 'first', '^(\\d+)\\s'],
  [
    'RE_URL', 'URL', 'all',
    // A keyed value (scheme optional, not a bare path), or any http(s) URL in free text without the
    // punctuation that ends a sentence or a parenthesis around it (the last character is not ")", "." or ",").
    `${keyed(URL_KEYS)}(?!/)([^\\s"]+)|\\b((?:[Hh][Tt][Tt][Pp][Ss]?)://${URL_CHAR}*[^\\s"'<>\\\\).,])`,
  ],
  ['RE_IP', 'IP', 'all', ADDRESS_PATTERN],
  ['RE_DOMAIN', 'DOMAIN', 'all', `${keyed(DOMAIN_KEYS)}${NOT_NUMERIC_HOST}(${LABEL}(?:\\.${LABEL})+)`],
  ['RE_MD5', 'MD5', 'all', hexWordPattern(32)],
  ['RE_SHA1', 'SHA1', 'all', hexWordPattern(40)],
  ['RE_SHA256', 'SHA256', 'all', hexWordPattern(64)],
  // The event's source address: a keyed field, or the first field of a line (Apache/NCSA logs).
  ['SRC_IP', 'CONTEXT', 'first', `${keyed(SRC_IP_KEYS)}(${IPV4}|${IPV6})(?![\\w.:])|^(${IPV4})\\s`],
];

const cdata = (text: string): string => `<![CDATA[${text}]]>`;

/** The default configuration as XML text (what `feedtrace serve --print-default-config` style tools show). */
export const DEFAULT_SERVICE_CONFIG_XML = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Feedtrace service configuration. Element names follow Kaspersky CyberTrace; see docs/service-config.md. -->
<Settings>
  <InputSettings>
    <ConnectionString>127.0.0.1:9999</ConnectionString>
    <!-- Feedtrace: longest event kept, in bytes (longer lines are cut, counted and reported). -->
    <MaxEventSize>1048576</MaxEventSize>
    <!-- Feedtrace: concurrent client connections; an idle connection is closed after IdleTimeout seconds (0 = never). -->
    <MaxConnections>64</MaxConnections>
    <IdleTimeout>0</IdleTimeout>
    <!-- Feedtrace: client addresses allowed to connect (IPs or CIDRs, comma-separated); empty = everyone. -->
    <AllowedClients></AllowedClients>
    <RegExps>
      <Source id="default">
        <NormalizingRules>
          <!-- CEF escapes "=" inside values as "\\="; undo it so url\\=... and a\\=b read as plain key=value. -->
          <Replace input="\\\\=" output="="/>
        </NormalizingRules>
${DEFAULT_REGEXES.map(([name, type, extract, pattern]) => `        <${name} type="${type}" extract="${extract}">${cdata(pattern)}</${name}>`).join('\n')}
      </Source>
    </RegExps>
  </InputSettings>
  <OutputSettings>
    <ConnectionString>127.0.0.1:9998</ConnectionString>
    <EventFormat>%Date% eventName=%Category% category=%Category% matchedIndicator=%MatchedIndicator% feed=%FeedName% sourceId=%SourceId% indicatorType=%IndicatorType% matchedValue=%MatchedValue% url=%RE_URL% ip=%RE_IP% domain=%RE_DOMAIN% md5=%RE_MD5% sha1=%RE_SHA1% sha256=%RE_SHA256% src=%SRC_IP%%RecordContext%</EventFormat>
    <RecordFieldContextFormat> %ParamName%=%ParamValue%</RecordFieldContextFormat>
    <ActionableFieldContextFormat> %ParamName%:%ParamValue%</ActionableFieldContextFormat>
    <!-- Feedtrace: record context fields rendered by %ActionableFields% (comma-separated names; empty = none). -->
    <ActionableFields></ActionableFields>
    <AlertFormat>%Date% alert=%Alert%%RecordContext%</AlertFormat>
    <FinishedEventFormat enabled="false">%Date% type=LookupFinished%RecordContext%</FinishedEventFormat>
    <!-- Feedtrace: output queue; spills to Directory (relative to this file) when the receiver is down or slow. -->
    <Spool>
      <Directory>spool</Directory>
      <MaxBytes>268435456</MaxBytes>
      <MemoryQueueEvents>10000</MemoryQueueEvents>
    </Spool>
  </OutputSettings>
  <NotificationSettings>
    <EventSettings>
      <EventSendingRetriesCount>3</EventSendingRetriesCount>
      <EventSendingRetriesTimeout>10</EventSendingRetriesTimeout>
    </EventSettings>
    <!-- Feedtrace: seconds between FT_Statistics events. -->
    <StatisticsInterval>60</StatisticsInterval>
  </NotificationSettings>
  <!-- Feedtrace: feeds. <Feed path="..." format="..." name="..." role="feed|allow|block" domainSuffix="true|false"/>,
       <WhiteList path="..."/> (= role allow), <BlackList path="..."/> (= role block). None by default: use --feed. -->
  <Feeds outdatedAlertPeriod="48">
  </Feeds>
</Settings>
`;
