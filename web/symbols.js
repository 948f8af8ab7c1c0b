// Parsing the symbol list that the user types. Pure functions.

// The relay rejects channel names longer than this (service/mapping.py).
export const MAX_SYMBOL_CHARS = 256;
// Enough for a wall of tickers; every symbol is a card that re-renders on each update.
export const MAX_SYMBOLS = 100;

/**
 * Split text such as "AAPL, MSFT ^GSPC" into unique symbols in input order.
 * Symbols are channel names and so case-sensitive. Return {symbols, errors}.
 */
export function parseSymbolList(text) {
  const symbols = [];
  const errors = [];
  for (const token of text.split(/[\s,;]+/)) {
    if (token === '' || symbols.includes(token)) {
      continue;
    }
    if (token.length > MAX_SYMBOL_CHARS) {
      errors.push(`Symbol "${token.slice(0, 24)}..." has ${token.length} characters; channel names have at most ${MAX_SYMBOL_CHARS}.`);
      continue;
    }
    symbols.push(token);
  }
  if (symbols.length > MAX_SYMBOLS) {
    errors.push(`${symbols.length} symbols were given; this page shows at most ${MAX_SYMBOLS}, so the first ${MAX_SYMBOLS} are kept.`);
    symbols.length = MAX_SYMBOLS;
  }
  return { symbols, errors };
}
