// The release both services report (the gateway's heartbeat, GET /v1/gateways); a test keeps it
// equal to package.json's version.
export const TOLLGATE_VERSION = '0.1.0';
