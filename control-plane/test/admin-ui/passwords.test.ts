// Admin password hashes: scrypt with a salt per hash and its cost stored beside it.
import t from 'tap';
import { DEFAULT_SCRYPT_COST, hashPassword, verifyPassword } from '../../src/admin-users/passwords.js';

t.test('a password verifies against its own hash and no other password does', async (t) => {
  const hash = await hashPassword('correct horse battery staple');
  t.ok(await verifyPassword('correct horse battery staple', hash));
  t.notOk(await verifyPassword('correct horse battery stapler', hash));
  t.notOk(await verifyPassword('', hash));
});

t.test('the hash names scrypt and its cost, and a salt makes each hash of one password different', async (t) => {
  const [first, second] = await Promise.all([hashPassword('same'), hashPassword('same')]);
  t.match(first, new RegExp(`^scrypt\\$${DEFAULT_SCRYPT_COST.N}\\$${DEFAULT_SCRYPT_COST.r}\\$${DEFAULT_SCRYPT_COST.p}\\$[A-Za-z0-9_-]+\\$[A-Za-z0-9_-]+$`));
  t.not(first, second);
  t.ok(await verifyPassword('same', second));
});

t.test('a hash made with another cost still verifies (the cost is read from the hash)', async (t) => {
  const cheap = await hashPassword('old password', { N: 1024, r: 8, p: 1 });
  t.match(cheap, /^scrypt\$1024\$8\$1\$/);
  t.ok(await verifyPassword('old password', cheap));
});

t.test('a password and its Unicode-equivalent spelling are the same password', async (t) => {
  const hash = await hashPassword('caf\u00e9');
  t.ok(await verifyPassword('cafe\u0301', hash));
});

t.test('stored values that are not our hashes never verify, and absurd costs are not attempted', async (t) => {
  const hash = await hashPassword('pw');
  const [, n, r, p, salt, digest] = hash.split('$');
  for (const stored of [
    '',
    'plain-text-password',
    `bcrypt$${n}$${r}$${p}$${salt}$${digest}`,
    `scrypt$${2 ** 30}$${r}$${p}$${salt}$${digest}`,
    `scrypt$1000$${r}$${p}$${salt}$${digest}`,
    `scrypt$${n}$${r}$${p}$${salt}$`,
    `scrypt$${n}$${r}$${p}$${salt}$${digest}$extra`,
  ]) {
    t.notOk(await verifyPassword('pw', stored), JSON.stringify(stored.slice(0, 40)));
  }
});
