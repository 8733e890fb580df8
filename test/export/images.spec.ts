import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerfileFor, imagePlans, type ImagePlan } from '../../src/export/images.js';
import { loadManifest } from '../../src/manifest/index.js';
import { examples } from '../helpers/cli.js';

// The Dockerfile each runtime's app builds from: the base image at the version
// the project asks for, the prepare `paasmaker up` runs, and the command.

function plans(example: string, images: Record<string, string> = {}): ImagePlan[] {
  return imagePlans(loadManifest(resolve(examples, example)), { images });
}

function only(example: string): string {
  const [plan, ...rest] = plans(example);
  expect(rest).toEqual([]);
  expect(plan!.dockerfile!.path).toBe('Dockerfile');
  return plan!.dockerfile!.text;
}

function lines(text: string): string[] {
  return text.split('\n');
}

describe('Dockerfiles per runtime', () => {
  it('node: node:<major>-slim from the manifest range, npm ci for a lockfile, the command through sh', () => {
    const guestbook = lines(only('guestbook-pg'));
    // No version in the manifest: the default long-term release.
    expect(guestbook).toContain('FROM node:22-slim');
    expect(guestbook).toContain('RUN npm ci');
    expect(guestbook.indexOf('COPY . .')).toBeLessThan(guestbook.indexOf('RUN npm ci'));
    expect(guestbook).toEqual(expect.arrayContaining(['WORKDIR /app', 'ENV PORT=8080', 'EXPOSE 8080', 'CMD ["/bin/sh", "-c", "node server.js"]']));

    // ">=20": the default fits; no dependencies in package.json: nothing to install.
    const hello = lines(only('hello-node'));
    expect(hello).toContain('FROM node:22-slim');
    expect(hello.filter((line) => line.startsWith('RUN '))).toEqual([]);
  });

  it('node: a range the default does not fit gives its lowest major; the manifest prepare replaces npm ci', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-images-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ dependencies: { ms: '^2.1.3' } }));
    writeFileSync(join(dir, 'package-lock.json'), '{}');
    writeFileSync(join(dir, '.nvmrc'), '18\n');
    writeFileSync(join(dir, 'paasmaker.yml'), 'application: {name: pinned}\ninstances:\n  web:\n    runtime: node\n    command: node server.js\n');
    expect(lines(only(dir))).toEqual(expect.arrayContaining(['FROM node:18-slim', 'RUN npm ci']));
    writeFileSync(join(dir, 'paasmaker.yml'), 'application: {name: pinned}\ninstances:\n  web:\n    runtime: {name: node, version: "^20.11"}\n    prepare: [npm install --omit=dev, npm run build]\n    command: node server.js\n');
    const text = lines(only(dir));
    expect(text).toContain('FROM node:20-slim');
    expect(text.filter((line) => line.startsWith('RUN '))).toEqual(['RUN npm install --omit=dev', 'RUN npm run build']);
  });

  it('python: python:<version>-slim; requirements.txt installed with pip as the runtime does', () => {
    expect(lines(only('hello-python'))).toEqual(expect.arrayContaining(['FROM python:3.12-slim', 'CMD ["/bin/sh", "-c", "python3 app.py"]']));
    expect(lines(only('notes'))).toEqual(expect.arrayContaining(['FROM python:3.12-slim', 'CMD ["/bin/sh", "-c", "python3 server.py"]']));
    const dir = mkdtempSync(join(tmpdir(), 'pm-images-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'requirements.txt'), 'flask==3.0.0\n');
    writeFileSync(join(dir, 'paasmaker.yml'), 'application: {name: py}\ninstances:\n  web:\n    runtime: {name: python, version: "3.11"}\n    command: flask run -h 0.0.0.0 -p $PORT\n');
    const text = lines(only(dir));
    expect(text).toContain('FROM python:3.11-slim');
    expect(text).toContain('RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.txt');
  });

  it("php: php:<version>-cli, the built-in server on the document root (on all addresses), PDO drivers, composer when composer.json", () => {
    const text = lines(only('php-notes'));
    expect(text).toContain('FROM php:8.3-cli');
    expect(text).toContain('CMD ["/bin/sh", "-c", "php -S 0.0.0.0:$PORT -t public public/index.php"]');
    expect(text.some((line) => line.includes('composer'))).toBe(false);

    const dir = mkdtempSync(join(tmpdir(), 'pm-images-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'composer.json'), JSON.stringify({ require: { php: '^8.1' } }));
    writeFileSync(join(dir, 'paasmaker.yml'), 'application: {name: shop}\ninstances:\n  web:\n    runtime: php\nservices:\n  db: {plugin: postgres}\n');
    const shop = lines(only(dir));
    expect(shop).toContain('FROM php:8.3-cli');
    expect(shop).toContain('COPY --from=composer:2 /usr/bin/composer /usr/bin/composer');
    expect(shop).toContain('RUN composer install --no-interaction --prefer-dist --no-progress');
    expect(shop.some((line) => line.includes('docker-php-ext-install pdo_pgsql'))).toBe(true);
    // No public/: the project folder is the document root.
    expect(shop).toContain('CMD ["/bin/sh", "-c", "php -S 0.0.0.0:$PORT -t ."]');
  });

  it('ruby: ruby:<version>-slim with bundle install for a Gemfile; rackup on all addresses when there is no command', () => {
    const text = lines(only('ruby-hello'));
    expect(text).toContain('FROM ruby:3.3-slim');
    expect(text).toContain('RUN bundle install');
    // The example listens on $HOST: loopback from Paasmaker, every address in the image.
    expect(text).toContain('CMD ["/bin/sh", "-c", "bundle exec rackup -p $PORT -o $HOST"]');
    expect(text).toContain('ENV HOST=0.0.0.0');

    const dir = mkdtempSync(join(tmpdir(), 'pm-images-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'Gemfile'), 'source "https://rubygems.org"\ngem "rack"\n');
    writeFileSync(join(dir, 'config.ru'), 'run ->(env) { [200, {}, ["ok"]] }\n');
    writeFileSync(join(dir, '.ruby-version'), 'ruby-3.2.2\n');
    writeFileSync(join(dir, 'paasmaker.yml'), 'application: {name: rack}\ninstances:\n  web:\n    runtime: ruby\n');
    expect(lines(only(dir))).toEqual(expect.arrayContaining(['FROM ruby:3.2-slim', 'RUN bundle install', 'CMD ["/bin/sh", "-c", "bundle exec rackup -p $PORT -o 0.0.0.0"]']));
  });

  it('static: a tiny server for root on $PORT', () => {
    const text = lines(only('static-site'));
    expect(text).toContain('FROM busybox:1.36');
    expect(text).toContain('CMD ["/bin/sh", "-c", "exec httpd -f -p \\"$PORT\\" -h /app/public"]');
  });

  it('shell, and a Procfile: Debian with the command as written; node for a Procfile with package.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-images-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'paasmaker.yml'), 'application: {name: sh}\ninstances:\n  web:\n    runtime: shell\n    prepare: [make]\n    command: ./serve --port $PORT\n');
    expect(lines(only(dir))).toEqual(expect.arrayContaining(['FROM debian:bookworm-slim', 'RUN make', 'CMD ["/bin/sh", "-c", "./serve --port $PORT"]']));

    const procfile = plans('procfile-app');
    expect(procfile.map((plan) => [plan.instance, plan.dockerfile?.path, plan.image])).toEqual([
      ['web', 'Dockerfile.web', 'procfile-app-web:latest'],
      ['worker', 'Dockerfile.worker', 'procfile-app-worker:latest'],
    ]);
    expect(lines(procfile[0]!.dockerfile!.text)).toContain('CMD ["/bin/sh", "-c", "node web.js"]');
    expect(lines(procfile[1]!.dockerfile!.text)).toContain('CMD ["/bin/sh", "-c", "node worker.js"]');
  });

  it('counter-redis: node, no install for a package.json without dependencies', () => {
    const text = lines(only('counter-redis'));
    expect(text).toContain('FROM node:22-slim');
    expect(text.filter((line) => line.startsWith('RUN '))).toEqual([]);
  });
});

describe('image plans', () => {
  it('instance types that build identically share one Dockerfile and one image, built once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-images-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'paasmaker.yml'),
      'application: {name: twins}\ninstances:\n  web:\n    runtime: shell\n    command: ./run\n  web2:\n    runtime: shell\n    command: ./run\n    standalone: true\n  jobs:\n    runtime: shell\n    command: ./jobs\n    standalone: true\n',
    );
    const manifest = loadManifest(dir);
    const [web, web2, jobs] = imagePlans(manifest, { images: {}, registry: 'ghcr.io/acme/', directory: 'out', context: 'app' });
    expect(web!.dockerfile!.path).toBe('Dockerfile.web');
    expect(web2!.dockerfile).toEqual(web!.dockerfile);
    expect(web2!.image).toBe('ghcr.io/acme/twins-web:latest');
    expect(web!.build).toEqual(['docker build -f out/Dockerfile.web -t ghcr.io/acme/twins-web:latest app', 'docker push ghcr.io/acme/twins-web:latest']);
    expect(web2!.build).toEqual([]);
    expect(jobs!.dockerfile!.path).toBe('Dockerfile.jobs');
    expect(jobs!.build[0]).toBe('docker build -f out/Dockerfile.jobs -t ghcr.io/acme/twins-jobs:latest app');
    // The text names no instance type: identical builds are identical files.
    expect(dockerfileFor(manifest, manifest.instances[0]!).text).toBe(dockerfileFor(manifest, manifest.instances[1]!).text);

    // Two left alike: one `Dockerfile`.
    const pair = imagePlans(manifest, { images: { jobs: 'ghcr.io/acme/jobs:2' } });
    expect(pair.map((plan) => plan.dockerfile?.path)).toEqual(['Dockerfile', 'Dockerfile', undefined]);
    expect(pair[0]!.build).toEqual(['docker build -f Dockerfile -t twins-web:latest .']);
  });

  it('--image skips the Dockerfile: the given image, nothing to build', () => {
    const [web, worker] = plans('procfile-app', { worker: 'registry.example/worker:7' });
    expect(worker).toEqual({ instance: 'worker', image: 'registry.example/worker:7', build: [] });
    expect(web!.dockerfile!.path).toBe('Dockerfile');
  });
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
