export { Certificates, LEAF_VALIDITY_MS, NoCertificate, RENEW_WITHIN_MS, type CertificatesOptions, type Leaf } from './certificates.js';
export { LocalCa, rootCommonName, rootFiles } from './local-ca.js';
export { inLocalZones, LOCAL_ZONES } from './zones.js';
