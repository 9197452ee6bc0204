import * as path from 'node:path';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { REPO_ROOT } from './lambda-bundle';

/** The CPU architecture images are built for and tasks run on (the `images.architecture` config value). */
export type ImageArchitecture = 'arm64' | 'x86_64';

export interface ContainerPlatform {
  /** What `docker build --platform` builds the image asset for. */
  readonly assetPlatform: ecrAssets.Platform;
  /** What the Fargate task runs on. */
  readonly runtimePlatform: ecs.RuntimePlatform;
}

/**
 * The one mapping from `images.architecture` to both the image build platform and the task's
 * CPU architecture. Every task definition and image asset takes both from here, so an image can
 * never be built for one architecture and run on the other (Fargate would fail the task with
 * "exec format error", after the deploy has already replaced the old one).
 */
export function containerPlatform(architecture: ImageArchitecture): ContainerPlatform {
  switch (architecture) {
    case 'arm64':
      return {
        assetPlatform: ecrAssets.Platform.LINUX_ARM64,
        runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      };
    case 'x86_64':
      return {
        assetPlatform: ecrAssets.Platform.LINUX_AMD64,
        runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      };
    default:
      // The config schema only lets these two through; this guards a caller that bypasses it.
      throw new Error(`images.architecture must be "arm64" or "x86_64", got ${String(architecture)}`);
  }
}

export interface DockerAssetImageOptions {
  /** Paths in the build context to leave out of the asset hash and the build. @default - only .dockerignore applies */
  readonly exclude?: string[];
  /** `--build-arg`s; part of the asset hash, so changing one rebuilds the image. @default - none */
  readonly buildArgs?: Record<string, string>;
  /**
   * Build with the repository root as the context (kept small by the root .dockerignore) and
   * `docker/<directory>/Dockerfile` as the file, for an image that bundles chat-domain/ and chat-clients/.
   * @default false - the context is `docker/<directory>` itself
   */
  readonly repoRootContext?: boolean;
}

/**
 * An image built at deploy time from `docker/<directory>` for the configured architecture and
 * pushed to the CDK assets repository in ECR, so tasks pull it from ECR (never Docker Hub) when they start.
 */
export function dockerAssetImage(architecture: ImageArchitecture, directory: string, options: DockerAssetImageOptions = {}): ecs.ContainerImage {
  const context = options.repoRootContext ? { directory: REPO_ROOT, file: path.join('docker', directory, 'Dockerfile') } : { directory: path.join(REPO_ROOT, 'docker', directory) };
  return ecs.ContainerImage.fromAsset(context.directory, {
    file: context.file,
    platform: containerPlatform(architecture).assetPlatform,
    exclude: options.exclude,
    buildArgs: options.buildArgs,
  });
}

/** The `runtimePlatform` of every Fargate task definition of the app. */
export function fargateRuntimePlatform(architecture: ImageArchitecture): ecs.RuntimePlatform {
  return containerPlatform(architecture).runtimePlatform;
}
