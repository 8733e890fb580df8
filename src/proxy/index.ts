export { Router, type RouterOptions } from './router.js';
export type { CertificateSource, RouterTls } from './tls-listener.js';
export { hostOf, readyUpstreams, RoutingTable, type RouteTarget, type TargetConfig, type TargetStatus, type Upstream } from './routing-table.js';
export { TrafficCounters, type TrafficSample } from './traffic.js';
export { serveStatic, startStaticServer, stopStaticServer } from './static-files.js';
export { DnsResponder, DNS_ZONE } from './dns.js';
export { RequestLog, REQUEST_LOG_SIZE, REDACTED, type RequestFilter, type RequestRecord } from './request-log.js';
