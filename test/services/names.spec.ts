import { describe, expect, it } from 'vitest';
import { assertSafe, myIdent, pgIdent, resourceName } from '../../src/services/names.js';

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
