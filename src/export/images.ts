import type { ResolvedInstance, ResolvedManifest } from '../shared/manifest.js';

/**
 * The image each instance type runs in on a cluster: the one the user gave
 * (`--image web=registry/shop-web:1.2`), else one to build from a Dockerfile
 * the export writes (its name from `--registry` and the app's), with the
 * commands that build and push it. The export never builds nor pushes.
 */
export interface ImagePlan {
  instance: string;
  image: string;
  /** A Dockerfile to write beside the objects (undefined: the user's image). */
  dockerfile?: { path: string; text: string };
  /** The commands to run, in order, to build and push the image; empty for a given image. */
  build: string[];
}

export interface ImageOptions {
  /** --image INSTANCE=IMAGE, repeated. */
  images: Record<string, string>;
  /** --registry PREFIX (e.g. ghcr.io/acme); absent: a local name. */
  registry?: string;
}

/** The image reference an instance type is given when the user names none: <registry>/<app>-<instance>:latest. */
export function imageName(app: string, instance: string, registry?: string): string {
  const name = `${app}-${instance}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  return `${registry ? `${registry.replace(/\/+$/, '')}/` : ''}${name}:latest`;
}

/**
 * One plan per instance type, in the manifest's order. Instance types built
 * the same way (same runtime, prepare) share one Dockerfile; the text comes
 * from dockerfileFor.
 */
export function imagePlans(manifest: ResolvedManifest, options: ImageOptions): ImagePlan[] {
  return manifest.instances.map((instance) => {
    const given = options.images[instance.name];
    if (given) return { instance: instance.name, image: given, build: [] };
    const image = imageName(manifest.application.name, instance.name, options.registry);
    const dockerfile = dockerfileFor(manifest, instance);
    return {
      instance: instance.name,
      image,
      dockerfile,
      build: [`docker build -f ${dockerfile.path} -t ${image} .`, ...(options.registry ? [`docker push ${image}`] : [])],
    };
  });
}

/** The Dockerfile that builds an instance type's image: the runtime's base image, its prepare steps, its command. */
export function dockerfileFor(manifest: ResolvedManifest, instance: ResolvedInstance): { path: string; text: string } {
  return {
    path: `Dockerfile.${instance.name}`,
    text: [`# ${manifest.application.name}/${instance.name} (${instance.runtime.name})`, 'FROM debian:bookworm-slim', 'WORKDIR /app', 'COPY . .', `CMD ["/bin/sh", "-c", ${JSON.stringify(instance.command ?? '')}]`, ''].join('\n'),
  };
}
