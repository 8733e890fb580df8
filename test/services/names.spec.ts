import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertSafe, forgetPassword, myIdent, pgIdent, resourceName, servicePassword } from '../../src/services/names.js';

describe('service resource names', () => {
  it('derives plain identifiers from app, service and branch', () => {
    expect(resourceName({ app: 'shop', service: 'db', branch: '' })).toBe('shop__db');
    expect(resourceName({ app: 'my-shop', service: 'main_db', branch: '' })).toBe('my_shop__main_db');
    const branchy = resourceName({ app: 'shop', service: 'db', branch: 'feature/Login"; DROP' });
    expect(branchy).toMatch(/^shop__db__feature_login_drop_[0-9a-f]{8}$/);
  });

  it('keeps long names within the server limit, distinct by a hash', () => {
    const a = resourceName({ app: 'a'.repeat(40), service: 'b'.repeat(40), branch: 'one' }, 32);
    const b = resourceName({ app: 'a'.repeat(40), service: 'b'.repeat(40), branch: 'two' }, 32);
    expect(a.length).toBeLessThanOrEqual(32);
    expect(a).not.toBe(b);
  });

  it('refuses anything that is not a plain identifier at the last step before SQL', () => {
    for (const hostile of ['x"; DROP DATABASE postgres; --', 'x`y', "o'hara", '', '1abc', 'a b']) {
      expect(() => assertSafe(hostile), hostile).toThrow(/unsafe identifier/);
      expect(() => pgIdent(hostile)).toThrow();
      expect(() => myIdent(hostile)).toThrow();
    }
    expect(pgIdent('shop__db')).toBe('"shop__db"');
    expect(myIdent('shop__db')).toBe('`shop__db`');
  });
});

describe('service passwords', () => {
  it('are made once, 256 random bits, kept in a 0600 file in a 0700 folder under secrets/, and forgotten on request', () => {
    const home = mkdtempSync(join(tmpdir(), 'pm-secrets-'));
    try {
      const password = servicePassword(home, 'my-plugin', 'shop__db');
      expect(password).toMatch(/^[0-9a-f]{64}$/);
      const file = join(home, 'secrets', 'my_plugin', 'shop__db');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(home, 'secrets', 'my_plugin')).mode & 0o777).toBe(0o700);
      expect(servicePassword(home, 'my-plugin', 'shop__db')).toBe(password);
      expect(servicePassword(home, 'my-plugin', 'shop__cache')).not.toBe(password);
      forgetPassword(home, 'my-plugin', 'shop__db');
      expect(existsSync(file)).toBe(false);
      expect(servicePassword(home, 'my-plugin', 'shop__db')).not.toBe(password);
      expect(() => servicePassword(home, 'x', '../escape')).toThrow();
      // Forgetting one that was never made (or twice) is no error.
      forgetPassword(home, 'my-plugin', 'shop__db');
      forgetPassword(home, 'my-plugin', 'shop__db');
      forgetPassword(home, 'postgres', 'never__made');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
