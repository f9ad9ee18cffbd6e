// The control plane's settings for the admin UI (the first user, session lifetimes, the trusted
// front proxies) and where it listens.
import t from 'tap';
import { loadConfig } from '../src/config.js';

t.test('the admin settings default to no first user, 30 min idle, 12 h sessions and no trusted proxy', async (t) => {
  const config = loadConfig({ ADMIN_TOKEN: 'a-token-of-sixteen-chars' });
  t.equal(config.firstAdmin, null);
  t.same(config.adminSession, { idleMs: 30 * 60_000, maxAgeMs: 12 * 3_600_000 });
  t.same(config.trustedProxies.entries, []);
});

t.test('ADMIN_PASSWORD alone makes the first user "admin"; durations and proxies are read', async (t) => {
  const config = loadConfig({
    ADMIN_TOKEN: 'a-token-of-sixteen-chars',
    ADMIN_PASSWORD: 'secret words here',
    ADMIN_SESSION_IDLE_TIMEOUT: '5m',
    ADMIN_SESSION_MAX_AGE: '1d',
    CONTROL_PLANE_TRUSTED_PROXIES: ' 10.0.0.1 , fd00::/8 ',
  });
  t.same(config.firstAdmin, { username: 'admin', password: 'secret words here' });
  t.same(config.adminSession, { idleMs: 5 * 60_000, maxAgeMs: 86_400_000 });
  t.same(config.trustedProxies.entries, ['10.0.0.1', 'fd00::/8']);
});

t.test('the control plane listens on loopback unless CONTROL_PLANE_HOST says otherwise', async (t) => {
  t.equal(loadConfig({ ADMIN_TOKEN: 'a-token-of-sixteen-chars' }).host, '127.0.0.1');
  t.equal(loadConfig({ ADMIN_TOKEN: 'a-token-of-sixteen-chars', CONTROL_PLANE_HOST: '0.0.0.0' }).host, '0.0.0.0');
});
