/**
 * Array parameters (and the one array result Corral reads) without the
 * driver's type discovery. postgres.js learns array types by a catalog query
 * on every new connection (`fetch_types`) and leaves a failure of that query
 * as an unhandled rejection: a connection reset while PostgreSQL restarts
 * then ends the whole hub process (porsager/postgres#1192, #1223). The array
 * oids of PostgreSQL's built-in types are fixed in its catalog, so Corral
 * names them and serializes arrays itself.
 */
export const PG_ARRAY = { bool: 1000, bytea: 1001, int4: 1007, text: 1009, int8: 1016 } as const;

type Element = string | number | Buffer | null;

/** An array literal: every element quoted, so no element text needs more than `\` and `"` escaped. */
function arrayLiteral(serialize: (x: NonNullable<Element>) => string): (xs: Element[]) => string {
  return (xs) => `{${xs.map((x) => (x === null ? 'NULL' : `"${serialize(x).replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
}

/** `{t,f,NULL}` as PostgreSQL prints a boolean[] (elements are never quoted). */
function parseBoolArray(s: string): Array<boolean | null> {
  const inner = s.slice(1, -1);
  return inner === '' ? [] : inner.split(',').map((x) => (x === 'NULL' ? null : x === 't'));
}

const scalar = (x: NonNullable<Element>): string => String(x);
const bytea = (x: NonNullable<Element>): string => `\\x${(x as Buffer).toString('hex')}`;

/** Corral sends these arrays and never reads them back (no result column has their oid: `from` is empty). */
function unread(x: string): Element[] {
  throw new Error(`unexpected array result ${x.slice(0, 40)}`);
}

/** Entries for the driver's `types` option: arrays are sent as `sql.typed(values, PG_ARRAY.x)`. */
export const ARRAY_TYPES = {
  textArray: { to: PG_ARRAY.text, from: [] as number[], serialize: arrayLiteral(scalar), parse: unread },
  int8Array: { to: PG_ARRAY.int8, from: [] as number[], serialize: arrayLiteral(scalar), parse: unread },
  int4Array: { to: PG_ARRAY.int4, from: [] as number[], serialize: arrayLiteral(scalar), parse: unread },
  byteaArray: { to: PG_ARRAY.bytea, from: [] as number[], serialize: arrayLiteral(bytea), parse: unread },
  boolArray: { to: PG_ARRAY.bool, from: [PG_ARRAY.bool] as number[], serialize: (xs: Array<boolean | null>): string => `{${xs.map((x) => (x === null ? 'NULL' : x ? 't' : 'f')).join(',')}}`, parse: parseBoolArray },
};
