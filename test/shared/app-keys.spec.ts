import { describe, expect, it } from 'vitest';
import { parseProcessKey, processKey, runId } from '../../src/engine/events.js';
import { appHostBase, appKey, checkoutHostname, checkoutLabel, splitAppKey } from '../../src/shared/app-keys.js';

describe('a checkout as part of an app\'s name', () => {
  it('makes a branch a host name label, never one that reads as a version', () => {
    expect(checkoutLabel('feature/Login_page')).toBe('feature-login-page');
    expect(checkoutLabel('--x--')).toBe('x');
    expect(checkoutLabel('v3')).toBe('v3-branch');
    expect(checkoutLabel('v3.1')).toBe('v3-1');
    expect(checkoutLabel('ünïcode/только')).toBe('n-code');
    expect(checkoutLabel('только')).toBe('checkout');
    expect(checkoutLabel(`a${'b'.repeat(60)}`)).toHaveLength(40);
  });

  it('names the main worktree APP and any other APP@label, on label.APP', () => {
    expect(appKey('shop')).toBe('shop');
    expect(appKey('shop', 'feature-x')).toBe('shop@feature-x');
    expect(splitAppKey('shop@feature-x')).toEqual({ app: 'shop', label: 'feature-x' });
    expect(splitAppKey('shop')).toEqual({ app: 'shop' });
    expect(appHostBase('shop@feature-x')).toBe('feature-x.shop');
    expect(appHostBase('shop')).toBe('shop');
    expect(checkoutHostname('api.example.test', 'feature-x')).toBe('feature-x.api.example.test');
    expect(checkoutHostname('*.example.test', 'feature-x')).toBe('*.feature-x.example.test');
    expect(checkoutHostname('api.example.test')).toBe('api.example.test');
  });

  it('reads a checkout\'s process keys, and tells them from a version\'s', () => {
    expect(parseProcessKey(processKey('shop@feature-x', 'web', 0, 2))).toMatchObject({ app: 'shop@feature-x', run: 'shop@feature-x', instance: 'web', index: 0, generation: 2 });
    expect(parseProcessKey(processKey(runId('shop', 3), 'web', 1))).toMatchObject({ app: 'shop', version: 3, instance: 'web', index: 1 });
    expect(parseProcessKey(processKey(runId('shop@feature-x', 3), 'web', 1))).toMatchObject({ app: 'shop@feature-x', version: 3, run: 'shop@feature-x@v3' });
    expect(parseProcessKey('shop/web.0')).toMatchObject({ app: 'shop', version: undefined });
  });
});
