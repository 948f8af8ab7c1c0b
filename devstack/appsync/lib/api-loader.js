'use strict';
// Load the AppSync API (schema.graphql, resolvers.json and the VTL templates it
// names) from a schema folder into amplify-appsync-simulator, unchanged.

const fs = require('node:fs');
const path = require('node:path');

const { AmplifyAppSyncSimulator, VelocityTemplate } = require('@aws-amplify/amplify-appsync-simulator');
const { patchVelocityContext } = require('./velocity-context');

/** The schema folder is missing a file or describes an API the simulator cannot load. */
class ApiLoadError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ApiLoadError';
  }
}

function readText(filePath, description) {
  try {
    return fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new ApiLoadError(`Cannot read ${description} at ${filePath}: ${error.message}`);
  }
}

function templatePath(schemaDir, relativePath, where) {
  if (typeof relativePath !== 'string' || relativePath === '') {
    throw new ApiLoadError(`${where} names no template file; give a path relative to ${schemaDir}`);
  }
  const resolved = path.resolve(schemaDir, relativePath);
  if (path.relative(schemaDir, resolved).startsWith('..')) {
    throw new ApiLoadError(`${where} names ${relativePath}, which is outside ${schemaDir}; keep templates inside the schema folder`);
  }
  return resolved;
}

/**
 * Read the schema folder and return the simulator configuration: the schema,
 * the data sources, one UNIT resolver per resolvers.json entry and the text
 * of every template those resolvers name.
 */
function readApiConfig(schemaDir, apiKey) {
  const schemaPath = path.join(schemaDir, 'schema.graphql');
  const resolversPath = path.join(schemaDir, 'resolvers.json');
  const schemaText = readText(schemaPath, 'the GraphQL schema');

  let resolversFile;
  try {
    resolversFile = JSON.parse(readText(resolversPath, 'the resolver mapping'));
  } catch (error) {
    if (error instanceof ApiLoadError) {
      throw error;
    }
    throw new ApiLoadError(`${resolversPath} is not valid JSON: ${error.message}`);
  }
  const dataSources = resolversFile.dataSources;
  const resolverEntries = resolversFile.resolvers;
  if (!Array.isArray(dataSources) || !Array.isArray(resolverEntries)) {
    throw new ApiLoadError(`${resolversPath} needs a "dataSources" list and a "resolvers" list`);
  }

  const templates = new Map();
  const resolvers = resolverEntries.map((entry, index) => {
    const where = `${resolversPath} resolver ${index + 1} (${entry.typeName}.${entry.fieldName})`;
    if (entry.runtime !== undefined || entry.code !== undefined) {
      throw new ApiLoadError(
        `${where} is an APPSYNC_JS resolver, which amplify-appsync-simulator 2.16.20 cannot load; write it as VTL templates`,
      );
    }
    for (const key of ['requestMappingTemplate', 'responseMappingTemplate']) {
      const relativePath = entry[key];
      if (!templates.has(relativePath)) {
        templates.set(relativePath, readText(templatePath(schemaDir, relativePath, where), `the ${key} of ${where}`));
      }
    }
    return {
      kind: 'UNIT',
      typeName: entry.typeName,
      fieldName: entry.fieldName,
      dataSourceName: entry.dataSourceName,
      requestMappingTemplateLocation: entry.requestMappingTemplate,
      responseMappingTemplateLocation: entry.responseMappingTemplate,
    };
  });

  return {
    appSync: {
      name: 'kafka-appsync-relay-local',
      apiKey,
      defaultAuthenticationType: { authenticationType: 'API_KEY' },
      additionalAuthenticationProviders: [],
    },
    schema: { path: schemaPath, content: schemaText },
    dataSources,
    resolvers,
    mappingTemplates: [...templates].map(([templateFile, content]) => ({ path: templateFile, content })),
  };
}

/** Create a simulator with the API of schemaDir loaded; it serves nothing by itself. */
function loadSimulator(schemaDir, apiKey) {
  const config = readApiConfig(schemaDir, apiKey);
  patchVelocityContext(VelocityTemplate);
  // The simulator's own HTTP and WebSocket servers are never started: the
  // launcher serves both endpoints and calls into the simulator to execute.
  const simulator = new AmplifyAppSyncSimulator({ port: 0, wsPort: 0 });
  try {
    simulator.init(config);
  } catch (error) {
    throw new ApiLoadError(`the simulator rejected it: ${error.message}`);
  }
  // Each subscription adds one listener to the publish/subscribe bus's
  // EventEmitter, and Node warns of a leak past 10 listeners.
  simulator.pubsub.ee.setMaxListeners(0);
  return simulator;
}

module.exports = { ApiLoadError, loadSimulator, readApiConfig };
