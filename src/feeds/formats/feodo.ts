/** abuse.ch Feodo Tracker botnet C2 CSV: `first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware` → `ip:port`. */
import type { FeedFormatParser } from '../format.js';
import { csvContext, csvRecords } from '../files.js';
import { ipWithPort } from '../indicator.js';

export const FEODO_CATEGORY = 'Feodo_BotnetCnC_IP';
const COLUMNS = ['first_seen_utc', 'dst_ip', 'dst_port', 'c2_status', 'last_online', 'malware'];

export const feodo: FeedFormatParser = {
  domainSuffix: () => false,
  async parse({ path, sink }) {
    for await (const record of csvRecords(path, sink, 'dst_ip', COLUMNS)) {
      const ip = (record.row.dst_ip ?? '').trim();
      const port = (record.row.dst_port ?? '').trim();
      const where = `${path}:${record.line}`;
      if (port !== '' && !/^\d{1,5}$/.test(port)) {
        sink.skip(where, 'dst_port is not a port number', port);
        continue;
      }
      sink.emit(where, 'ip', port === '' ? ip : ipWithPort(ip, port), FEODO_CATEGORY, csvContext(record, ['dst_ip', 'dst_port']));
    }
  },
};
