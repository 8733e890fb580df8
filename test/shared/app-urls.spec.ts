import { describe, expect, it } from 'vitest';
import { nameUrls, primaryUrl, urlsText } from '../../src/shared/app-urls.js';

describe("an app's URLs, as every face shows them", () => {
  it('with TLS: https first, plain http beside it, each on its own port', () => {
    const urls = nameUrls('shop.localhost', { http: 7654, https: 7655 });
    expect(urls).toEqual({ url: 'http://shop.localhost:7654/', httpsUrl: 'https://shop.localhost:7655/' });
    expect(primaryUrl(urls)).toBe('https://shop.localhost:7655/');
    expect(urlsText(urls)).toBe('https://shop.localhost:7655/ (or http://shop.localhost:7654/)');
  });

  it('without TLS (--no-tls): http only; without a router: none', () => {
    const plain = nameUrls('v3.shop.localhost', { http: 8080, https: null });
    expect(plain).toEqual({ url: 'http://v3.shop.localhost:8080/', httpsUrl: null });
    expect(urlsText(plain)).toBe('http://v3.shop.localhost:8080/');
    expect(nameUrls('shop.localhost', {})).toEqual({ url: null, httpsUrl: null });
    expect(urlsText(nameUrls('shop.localhost', {}))).toBeNull();
  });

  it('leaves out a port that is its scheme’s own (80, 443), and only that one', () => {
    expect(nameUrls('shop.localhost', { http: 80, https: 443 })).toEqual({ url: 'http://shop.localhost/', httpsUrl: 'https://shop.localhost/' });
    expect(nameUrls('shop.localhost', { http: 443, https: 80 })).toEqual({ url: 'http://shop.localhost:443/', httpsUrl: 'https://shop.localhost:80/' });
  });
});
