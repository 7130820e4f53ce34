import { InvalidArgumentError } from 'commander';

/** An option parser for whole numbers of at least `min`. */
export function wholeNumber(min: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number, ${min} or more`);
    return n;
  };
}
