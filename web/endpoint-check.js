// Finding out why the real-time connection fails before its first
// connection_ack. A browser reports a rejected WebSocket handshake only as
// code 1006 and hides AppSync's HTTP 401 response. So the page sends one
// query to the GraphQL endpoint, which returns 401 and an error body for a bad key.

const CHECK_QUERY = 'query ApiKeyCheck { __typename }';

function errorDetails(body) {
  if (body === null || typeof body !== 'object' || !Array.isArray(body.errors)) {
    return '';
  }
  return body.errors.map((error) => [error.errorType, error.message].filter(Boolean).join(': ')).join('; ');
}

/** Return why the GraphQL endpoint rejects the API key or cannot be reached, or null when it accepts the key. */
export async function apiKeyProblem(graphqlUrl, apiKey) {
  let response;
  try {
    response = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ query: CHECK_QUERY }),
    });
  } catch (error) {
    return `The GraphQL endpoint ${graphqlUrl} cannot be reached either (${error.message}); check graphqlUrl and realtimeUrl in config.json and that the endpoint runs.`;
  }
  if (response.status !== 401 && response.status !== 403) {
    return null;
  }
  let details = '';
  try {
    details = errorDetails(await response.json());
  } catch {
    // A non-JSON error body leaves only the status to report.
  }
  const host = new URL(graphqlUrl).host;
  return `${host} rejected the API key from config.json with HTTP ${response.status}${details ? ` (${details})` : ''}; put a valid key into config.json.`;
}
