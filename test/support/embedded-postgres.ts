/** Tests start PostgreSQL the way `corral dev` does. */
export { startPostgres, type PostgresServer, type StartPostgresOptions } from '../../src/cli/embedded-postgres.js';
