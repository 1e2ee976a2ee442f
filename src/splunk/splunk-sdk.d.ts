/**
 * The parts of splunk-sdk (npm, untyped) the REST helper uses. We load lib/ modules directly: the package's
 * index.js runs dotenv on import, reading any .env in the working directory into process.env.
 */
declare module 'splunk-sdk/lib/http.js' {
  interface HttpResponse {
    response: { statusCode: number | string; headers: Record<string, unknown> };
    status: number | string;
    data: unknown;
    error: unknown;
  }
  interface HttpMessage {
    method: string;
    headers: Record<string, string | number>;
    body: string;
    timeout?: number;
    response_timeout?: number;
    query?: Record<string, unknown>;
  }
  interface HttpClass {
    extend<T extends object>(props: T & ThisType<T & HttpInstance>): new () => HttpInstance;
  }
  interface HttpInstance {
    _buildResponse(error: unknown, response: { statusCode: number | string; headers: Record<string, unknown> }, data: string | object): HttpResponse;
  }
  const Http: HttpClass;
  export = Http;
}

declare module 'splunk-sdk/lib/service.js' {
  interface ServiceParams {
    scheme?: string;
    host?: string;
    port?: number;
    username?: string;
    password?: string;
    sessionKey?: string;
    authorization?: string;
    owner?: string;
    app?: string;
    version?: string;
    autologin?: boolean;
  }
  class Service {
    constructor(http: object, params: ServiceParams);
    login(): Promise<boolean>;
    getInfo(): Promise<boolean>;
    post(path: string, params: Record<string, unknown>): Promise<{ data: unknown }>;
    get(path: string, params: Record<string, unknown>): Promise<{ data: unknown }>;
    oneshotSearch(query: string, params: Record<string, unknown>): Promise<unknown>;
  }
  export = Service;
}
