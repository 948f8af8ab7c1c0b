// The page's settings, read from config.json next to index.html, so that no
// endpoint or key is written into the page's source.

/** Check a parsed config.json; return {graphqlUrl, realtimeUrl, apiKey} or throw with what to fix. */
export function validateConfig(config) {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error('config.json must contain a JSON object {"graphqlUrl", "realtimeUrl", "apiKey"}.');
  }
  const problems = [];
  const graphqlUrl = urlOrNull(config.graphqlUrl, ['http:', 'https:']);
  if (graphqlUrl === null) {
    problems.push(`"graphqlUrl" must be the http(s) GraphQL endpoint, got ${JSON.stringify(config.graphqlUrl)}`);
  }
  const realtimeUrl = urlOrNull(config.realtimeUrl, ['ws:', 'wss:']);
  if (realtimeUrl === null) {
    problems.push(`"realtimeUrl" must be the ws(s) real-time endpoint, got ${JSON.stringify(config.realtimeUrl)}`);
  }
  if (typeof config.apiKey !== 'string' || config.apiKey === '') {
    problems.push('"apiKey" must be the AppSync API key, a non-empty string');
  }
  if (problems.length > 0) {
    throw new Error(`config.json is invalid: ${problems.join('; ')}. See web/README.md for how to write it.`);
  }
  return { graphqlUrl, realtimeUrl, apiKey: config.apiKey };
}

function urlOrNull(value, protocols) {
  if (typeof value !== 'string') {
    return null;
  }
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) ? value : null;
  } catch {
    return null;
  }
}

/** Fetch and check config.json; throw with what to fix when it is missing or invalid. */
export async function loadConfig(url = 'config.json') {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (error) {
    throw new Error(`Fetching ${url} failed: ${error.message}.`);
  }
  if (!response.ok) {
    throw new Error(`Fetching ${url} failed with HTTP ${response.status}; write it as web/README.md describes.`);
  }
  let config;
  try {
    config = await response.json();
  } catch (error) {
    throw new Error(`${url} is not valid JSON: ${error.message}.`);
  }
  return validateConfig(config);
}
