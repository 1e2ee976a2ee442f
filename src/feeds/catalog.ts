/**
 * The built-in catalog of Kaspersky Threat Data Feeds, in the shape of CyberTrace's `kl_feed_info.conf`:
 * feed name → the record fields to index (field path, indicator type, detection category) and the
 * verification indicators Kaspersky keeps in every copy of the feed (the Splunk self-test looks them up).
 *
 * Sources: CyberTrace docs (field → category table of Botnet_CnC_URL_Data_Feed, category names, feed ids)
 * and the verification table of the Splunk app's `klsearch verification`. Category names the docs do not
 * publish (Mobile, Ransomware, Vulnerability) follow the documented pattern; docs/feeds.md marks them.
 */
import type { IndicatorType } from '../types.js';
import type { FeedFieldMapping } from './load.js';

/** Field types as `kl_feed_info.conf` writes them. */
export type KasperskyFieldType = 'URL' | 'IP' | 'MD5' | 'SHA1' | 'SHA256';

export interface KasperskyFeedField {
  name: string;
  type: KasperskyFieldType;
  category: string;
}

export interface KasperskyFeedInfo {
  name: string;
  id?: number;
  description: string;
  fields: KasperskyFeedField[];
  verification: Array<{ indicator: string; category: string }>;
}

const urlFields = (category: string): KasperskyFeedField[] => [{ name: 'mask', type: 'URL', category }];
const hashFields = (prefix: string, path = ''): KasperskyFeedField[] =>
  (['MD5', 'SHA1', 'SHA256'] as const).map((type) => ({ name: `${path}${type}`, type, category: `${prefix}_${type}` }));

interface FeedDefinition {
  name: string;
  id?: number;
  description: string;
  fields: KasperskyFeedField[];
  /** Verification indicator of the feed, and of its `Demo_` variant when one is known. */
  verify: string[];
  demoVerify?: string[];
  demoId?: number;
}

const FEEDS: FeedDefinition[] = [
  {
    name: 'Malicious_URL_Data_Feed',
    description: 'URLs and masks of malicious web addresses',
    fields: urlFields('KL_Malicious_URL'),
    verify: ['http://fakess123.nu'],
  },
  {
    name: 'Phishing_URL_Data_Feed',
    description: 'URLs and masks of phishing web addresses',
    fields: urlFields('KL_Phishing_URL'),
    verify: ['http://fakess123ap.nu'],
  },
  {
    name: 'Botnet_CnC_URL_Data_Feed',
    id: 65,
    description: 'URLs of botnet command-and-control servers, and hashes of the bots that contact them',
    // The hashes of a URL feed are matched only when listed (CyberTrace 4.0+); the documented entry lists them.
    fields: [...urlFields('KL_BotnetCnC_URL'), ...hashFields('KL_BotnetCnC_Hash', 'files/')],
    verify: ['http://a7396d61caffe18a4cffbb3b428c9b60.com', 'http://fakess123bn.nu/'],
    demoVerify: ['http://5a015004f9fc05290d87e86d69c4b237.com'],
  },
  {
    name: 'IP_Reputation_Data_Feed',
    id: 68,
    description: 'IP addresses with a reputation (threat score, category)',
    fields: [{ name: 'ip', type: 'IP', category: 'KL_IP_Reputation' }],
    verify: ['192.0.2.0'],
    demoVerify: ['192.0.2.1'],
    demoId: 87,
  },
  {
    name: 'Malicious_Hash_Data_Feed',
    description: 'Hashes of malicious files',
    fields: hashFields('KL_Malicious_Hash'),
    verify: ['C912705B4BBB14EC7E78FA8B370532C9'],
    demoVerify: ['776735A8CA96DB15B422879DA599F474'],
  },
  {
    name: 'Ransomware_URL_Data_Feed',
    description: 'URLs and masks of ransomware distribution and command servers',
    fields: urlFields('KL_Ransomware_URL'),
    verify: ['http://fakess123r.nu'],
  },
  {
    name: 'Mobile_Malicious_Hash_Data_Feed',
    description: 'Hashes of malicious mobile applications',
    fields: hashFields('KL_Mobile_Malicious_Hash'),
    verify: ['60300A92E1D0A55C7FDD360EE40A9DC1'],
  },
  {
    name: 'Mobile_BotnetCnC_Data_Feed',
    description: 'Hashes of mobile bots and their command-and-control URLs',
    fields: [...hashFields('KL_Mobile_BotnetCnC_Hash'), ...urlFields('KL_Mobile_BotnetCnC_URL')],
    verify: ['001F6251169E6916C455495050A3FB8D'],
  },
  {
    name: 'APT_URL_Data_Feed',
    description: 'URLs used by targeted-attack (APT) campaigns',
    fields: urlFields('KL_APT_URL'),
    verify: ['http://b046f5b25458638f6705d53539c79f62.com'],
  },
  {
    name: 'APT_Hash_Data_Feed',
    description: 'Hashes of files used by targeted-attack (APT) campaigns',
    fields: hashFields('KL_APT_Hash'),
    verify: ['7A2E65A0F70EE0615EC0CA34240CF082'],
  },
  {
    name: 'APT_IP_Data_Feed',
    description: 'IP addresses used by targeted-attack (APT) campaigns',
    fields: [{ name: 'ip', type: 'IP', category: 'KL_APT_IP' }],
    verify: ['192.0.2.4'],
  },
  {
    name: 'IoT_URL_Data_Feed',
    description: 'URLs that serve malware to IoT devices',
    fields: urlFields('KL_IoT_URL'),
    verify: ['http://e593461621ee0f9134c632d00bf108fd.com/.i'],
  },
  {
    name: 'IoT_Hash_Data_Feed',
    description: 'Hashes of malware that infects IoT devices',
    fields: hashFields('KL_IoT_Hash'),
    verify: [],
  },
  {
    name: 'ICS_Hash_Data_Feed',
    description: 'Hashes of malware that targets industrial control systems',
    fields: hashFields('KL_ICS_Hash'),
    verify: ['7A8F30B40C6564EFF95E678F7C43346C'],
  },
  {
    name: 'Vulnerability_Data_Feed',
    description: 'Hashes of files that exploit known vulnerabilities',
    fields: hashFields('KL_Vulnerability_Hash'),
    verify: ['D8C1F5B4AD32296649FF46027177C594'],
  },
];

/** Which category a verification indicator belongs to: the feed's field of the indicator's kind. */
function verificationCategory(fields: KasperskyFeedField[], indicator: string): string {
  const kind: KasperskyFieldType = /^https?:\/\//.test(indicator)
    ? 'URL'
    : /^[0-9A-F]{32}$/i.test(indicator)
      ? 'MD5'
      : /^[0-9A-F]{40}$/i.test(indicator)
        ? 'SHA1'
        : /^[0-9A-F]{64}$/i.test(indicator)
          ? 'SHA256'
          : 'IP';
  const field = fields.find((f) => f.type === kind);
  if (field === undefined) throw new Error(`catalog error: no ${kind} field for verification indicator ${indicator}`);
  return field.category;
}

function feedInfo(name: string, id: number | undefined, description: string, fields: KasperskyFeedField[], verify: string[]): KasperskyFeedInfo {
  return {
    name,
    ...(id === undefined ? {} : { id }),
    description,
    fields,
    verification: verify.map((indicator) => ({ indicator, category: verificationCategory(fields, indicator) })),
  };
}

/** Every feed in the catalog, the `Demo_` variants after the full ones (same fields, their own test records). */
export const KASPERSKY_FEEDS: readonly KasperskyFeedInfo[] = [
  ...FEEDS.map((f) => feedInfo(f.name, f.id, f.description, f.fields, f.verify)),
  ...FEEDS.map((f) => feedInfo(`Demo_${f.name}`, f.demoId, `Demo version: ${f.description}`, f.fields, f.demoVerify ?? [])),
];

const BY_NAME = new Map(KASPERSKY_FEEDS.map((feed) => [feed.name.toLowerCase(), feed]));

/** The catalog entry for a feed file named `<Name>.json` (or `Demo_<Name>.json`), if there is one. */
export function kasperskyFeedForFile(fileName: string): KasperskyFeedInfo | undefined {
  const match = /^(.+?)\.json$/i.exec(fileName);
  return match ? BY_NAME.get(match[1]!.toLowerCase()) : undefined;
}

const INDICATOR_TYPE: Record<KasperskyFieldType, IndicatorType> = { URL: 'url', IP: 'ip', MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256' };

/** A catalog entry as the field mapping the JSON loader applies. */
export function kasperskyMapping(feed: KasperskyFeedInfo): FeedFieldMapping[] {
  return feed.fields.map((field) => ({ field: field.name, type: INDICATOR_TYPE[field.type], category: field.category }));
}
