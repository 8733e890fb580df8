export { Certificates, LEAF_VALIDITY_MS, NoCertificate, RENEW_WITHIN_MS, type CertificatesOptions, type Leaf } from './certificates.js';
export { LocalCa, rootCommonName, rootFiles } from './local-ca.js';
export { inLocalZones, LOCAL_ZONES } from './zones.js';
export { certutil, nssDatabases, userHome, type NssDatabase } from './nss-databases.js';
export { systemStore, type SystemStore } from './system-store.js';
export {
  CERTUTIL_INSTALL,
  commandText,
  planTrust,
  planUntrust,
  readTrustRecord,
  recordAdded,
  recordRemoved,
  runAction,
  trustRecordFile,
  trustStatus,
  trustStores,
  uniqueName,
  type TrustAction,
  type TrustEntry,
  type TrustPlan,
  type TrustRow,
  type TrustStores,
} from './trust.js';
