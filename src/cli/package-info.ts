import { readFileSync } from 'node:fs';

interface PackageJson {
  version: string;
  peerDependencies?: Record<string, string>;
}

/** Corral's package.json: compiled to dist/src/cli/, three levels below the package root, in a clone and an install alike. */
export const packageInfo = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as PackageJson;
