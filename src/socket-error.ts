/** A socket error as one short phrase for a message that already names the host:port (lookup, check, replay). */
export function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connection refused (is the service running and listening there?)';
    case 'ECONNRESET': return 'connection reset by the service';
    case 'EPIPE': return 'the service closed the connection';
    case 'ETIMEDOUT': return 'connection timed out';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host name not found';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    default: return err.message;
  }
}
